import type { z } from 'zod';
import { formatPath, isSecretPath } from './path.ts';
import type { ConfigProblem } from './interpolate.ts';

const MAX_SHOWN_INPUT = 60;

/** Turns zod issues into one problem per key path, in words a plant engineer can act on. */
export function problemsFromZod(issues: ReadonlyArray<z.core.$ZodIssue>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest: the one with the fewest problems.
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      problems.push(...problemsFromZod(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] }))));
      continue;
    }
    problems.push({ path: formatPath(issue.path), message: describe(issue) });
  }
  return problems;
}

function describe(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const got = isSecretPath(issue.path) ? 'got a value of the wrong kind' : `got ${show(input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'required key is missing';
      return `expected ${issue.expected}, ${got}`;
    case 'invalid_value':
      if (issue.values.length === 1) return `expected ${show(issue.values[0])}, ${got}`;
      return `expected one of ${issue.values.map(String).join(', ')}; ${got}`;
    case 'too_big':
      return `${bound('at most', issue.maximum, issue.inclusive, issue.origin)}, ${gotSize(issue.origin, input, got)}`;
    case 'too_small':
      return `${bound('at least', issue.minimum, issue.inclusive, issue.origin)}, ${gotSize(issue.origin, input, got)}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}, ${got}`;
    case 'invalid_format':
      return `${issue.message}, ${got}`;
    default:
      return issue.message;
  }
}

function bound(word: string, limit: number | bigint, inclusive: boolean | undefined, origin: string): string {
  const n = Number(limit);
  const value = inclusive === false ? (word === 'at most' ? `less than ${n}` : `more than ${n}`) : `${word} ${n}`;
  if (origin === 'string') return `expected ${value} characters`;
  if (origin === 'array' || origin === 'set') return `expected ${value} items`;
  return `expected ${value}`;
}

function gotSize(origin: string, input: unknown, got: string): string {
  if ((origin === 'array' || origin === 'string') && input !== undefined && input !== null) {
    const length = (input as { length?: number }).length;
    if (typeof length === 'number') return `got ${length}`;
  }
  return got;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const shown = text.length > MAX_SHOWN_INPUT ? `${text.slice(0, MAX_SHOWN_INPUT)}…` : text;
  return typeof value === 'string' ? shown : `${typeof value} ${shown}`;
}
