/**
 * Node ids and browse paths as written in config, parsed without node-opcua so the schema
 * can check them with no I/O. The driver turns them into node-opcua objects once it knows
 * the server's namespace array.
 */

/** A NodeId as text: `ns=2;s=Line1.Temp`, `i=2258`, `nsu=urn:plant;s=Temp`, `ns=3;g=<guid>`, `ns=4;b=<base64>`. */
export interface ParsedNodeId {
  /** A namespace index, or a namespace URI (nsu=) to look up in the server's namespace array. */
  namespace: number | string;
  kind: 'i' | 's' | 'g' | 'b';
  identifier: string;
}

/** One step of a browse path: a browse name with its namespace index (0 when unprefixed). */
export interface BrowseName {
  namespaceIndex: number;
  name: string;
}

const MAX_UINT16 = 65_535;
const MAX_UINT32 = 4_294_967_295;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const NAMESPACE_PREFIX = /^(\d+):(.*)$/;

/** Parses NodeId text; returns a problem sentence instead when it is not one. */
export function parseNodeId(text: string): ParsedNodeId | string {
  let rest = text.trim();
  let namespace: number | string = 0;
  const ns = /^ns=(\d+);/.exec(rest);
  const nsu = /^nsu=([^;]+);/.exec(rest);
  if (ns) {
    namespace = Number(ns[1]);
    if (namespace > MAX_UINT16) return `namespace index ${namespace} is above ${MAX_UINT16}`;
    rest = rest.slice(ns[0].length);
  } else if (nsu) {
    namespace = nsu[1] ?? '';
    rest = rest.slice(nsu[0].length);
  }
  const match = /^([isgb])=(.+)$/s.exec(rest);
  if (!match) return `expected a NodeId such as ns=2;s=Line1.Temp, i=2258 or nsu=urn:plant;s=Temp, got "${text}"`;
  const kind = match[1] as ParsedNodeId['kind'];
  const identifier = match[2] ?? '';
  if (kind === 'i' && (!/^\d+$/.test(identifier) || Number(identifier) > MAX_UINT32)) return `numeric identifier must be 0-${MAX_UINT32}, got "${identifier}"`;
  if (kind === 'g' && !GUID.test(identifier)) return `guid identifier must look like 72962b91-fa75-4ae6-8d28-b404dc7daf63, got "${identifier}"`;
  if (kind === 'b' && !BASE64.test(identifier)) return `opaque identifier must be base64, got "${identifier}"`;
  return { namespace, kind, identifier };
}

/** NodeId text with a namespace index, as node-opcua reads it. */
export function nodeIdText(id: ParsedNodeId, namespaceIndex: number): string {
  return `${namespaceIndex === 0 ? '' : `ns=${namespaceIndex};`}${id.kind}=${id.identifier}`;
}

/**
 * Parses a browse path from the Root folder: `/Objects/2:Plant/2:Line1/2:Temp`. Each step
 * follows hierarchical references forward; `2:` is the namespace index of the browse name
 * (none means 0). A `/` inside a name is written `&/`, a `&` as `&&`.
 */
export function parseBrowsePath(text: string): BrowseName[] | string {
  if (!text.startsWith('/')) return `a browse path starts at the Root folder with "/", as in /Objects/2:Plant, got "${text}"`;
  const steps: BrowseName[] = [];
  let current = '';
  const push = (): string | undefined => {
    if (current === '') return 'a browse path has an empty step ("//" or a trailing "/")';
    const prefixed = NAMESPACE_PREFIX.exec(current);
    const namespaceIndex = prefixed ? Number(prefixed[1]) : 0;
    const name = prefixed ? (prefixed[2] ?? '') : current;
    if (namespaceIndex > MAX_UINT16) return `namespace index ${namespaceIndex} is above ${MAX_UINT16}`;
    if (name === '') return `the step "${current}" has no name`;
    steps.push({ namespaceIndex, name });
    current = '';
    return undefined;
  };
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '&') {
      const next = text[i + 1];
      if (next !== '/' && next !== '&') return 'in a browse path, "&" escapes only "/" and "&"';
      current += next;
      i++;
    } else if (c === '/') {
      const problem = push();
      if (problem) return problem;
    } else current += c;
  }
  const problem = push();
  if (problem) return problem;
  return steps;
}

/** A browse path back to text, the form readings carry in details.browsePath. */
export function browsePathText(steps: readonly BrowseName[]): string {
  return steps.map((s) => `/${s.namespaceIndex === 0 ? '' : `${s.namespaceIndex}:`}${escapeName(s.name)}`).join('');
}

/** The default tag of a browse path: its names joined by "/", without the leading Objects folder. */
export function tagOfBrowsePath(steps: readonly BrowseName[]): string {
  const names = steps.map((s) => s.name);
  if (names[0] === 'Objects' && names.length > 1) names.shift();
  return names.join('/');
}

function escapeName(name: string): string {
  return name.replace(/&/g, '&&').replace(/\//g, '&/');
}
