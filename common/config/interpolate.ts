import { formatPath } from './path.ts';

export interface ConfigProblem {
  path: string;
  message: string;
}

/** ${NAME} or ${NAME:-default}; $${ writes a literal ${. */
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Replaces environment references in every string of a parsed YAML tree.
 * A value that is one whole reference takes the type its text spells (port: ${PORT} is a
 * number); a reference inside a longer string stays text. Unset variables without a default
 * are collected as problems, each with the key path where the reference stands.
 */
export interface Interpolated {
  value: unknown;
  problems: ConfigProblem[];
  /** Whole references that were typed from their text, by key path, with that text. */
  typed: Array<{ path: PropertyKey[]; text: string }>;
}

export function interpolateEnv(tree: unknown, env: Env): Interpolated {
  const problems: ConfigProblem[] = [];
  const typed: Interpolated['typed'] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') {
      const out = interpolateString(node, env, path, problems);
      if (typeof out.value !== 'string') typed.push({ path, text: out.text });
      return out.value;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) out[key] = walk(child, [...path, key]);
      return out;
    }
    return node;
  };
  return { value: walk(tree, []), problems, typed };
}

function interpolateString(text: string, env: Env, path: PropertyKey[], problems: ConfigProblem[]): { value: unknown; text: string } {
  if (!text.includes('${')) return { value: text, text };
  let missing = false;
  const replaced = text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const value = env[name as string];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    if (value === '') return '';
    missing = true;
    problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
    return match;
  });
  if (missing) return { value: text, text };
  if (WHOLE_REFERENCE.test(text)) return { value: typedScalar(replaced), text: replaced };
  return { value: replaced, text: replaced };
}

function typedScalar(text: string): unknown {
  if (NUMBER_TEXT.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}
