import { z } from 'zod';

/** A JSON Schema node as zod emits it, the parts the docs use. */
interface Node {
  type?: string | string[];
  properties?: Record<string, Node>;
  items?: Node;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Node[];
  default?: unknown;
  'x-default'?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
}

export interface Row {
  key: string;
  type: string;
  required: boolean;
  default: string;
  description: string;
}

/** Every leaf key of a config schema, with type, default and description, in schema order. */
export function configRows(schema: z.ZodType): Row[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Node;
  const rows: Row[] = [];
  walk(root, '', true, rows);
  return rows;
}

function walk(node: Node, key: string, required: boolean, rows: Row[]): void {
  const target = unwrap(node);
  if (target.properties) {
    if (key && target.description) rows.push({ key, type: 'mapping', required, default: '', description: target.description });
    for (const [name, child] of Object.entries(target.properties)) {
      walk(child, key ? `${key}.${name}` : name, (target.required ?? []).includes(name) && !('default' in child), rows);
    }
    return;
  }
  if (target.items && unwrap(target.items).properties) {
    rows.push({ key, type: 'list', required, default: '', description: node.description ?? target.description ?? '' });
    walk(target.items, `${key}[]`, true, rows);
    return;
  }
  rows.push({ key, type: typeOf(target), required, default: defaultOf(node), description: node.description ?? target.description ?? '' });
}

function unwrap(node: Node): Node {
  const branch = node.anyOf?.find((n) => n.type !== 'null');
  return branch ? { ...branch, description: node.description ?? branch.description } : node;
}

function typeOf(node: Node): string {
  if (node.enum) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  if (node.type === 'array') return `list of ${node.items ? typeOf(unwrap(node.items)) : 'values'}`;
  const type = Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'string (secret)');
  if ((type === 'integer' || type === 'number') && (node.minimum !== undefined || node.maximum !== undefined)) {
    return `${type} ${node.minimum ?? ''}–${node.maximum ?? ''}`;
  }
  return node.format ? `${type} (${node.format})` : type;
}

function defaultOf(node: Node): string {
  if (node['x-default']) return `\`${node['x-default']}\``;
  if (!('default' in node)) return '';
  return `\`${JSON.stringify(node.default)}\``;
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| key | type | default | description |', '| --- | --- | --- | --- |'];
  for (const r of rows) {
    const def = r.default || (r.required ? '**required**' : '');
    lines.push(`| \`${r.key}\` | ${r.type} | ${def} | ${r.description.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}
