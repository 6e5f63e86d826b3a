import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { interpolateEnv, type ConfigProblem, type Env } from './interpolate.ts';
import { problemsFromZod } from './issues.ts';

const MAX_SYNTAX_ERRORS_SHOWN = 3;

/** A configuration that must not start anything: every problem, each with its key path. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  readonly file: string;

  constructor(file: string, problems: ConfigProblem[]) {
    super(`${file}: ${problems.length} configuration problem(s)\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }

  /** One line per problem, as printed before the process exits. */
  lines(): string[] {
    return this.problems.map((p) => `config error: ${formatProblem(p)}`);
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.path}: ${problem.message}`;
}

/** Parses, interpolates and validates YAML text. Pure: no I/O, no clock. */
export function parseConfigText<S extends z.ZodType>(text: string, schema: S, env: Env, file = 'config'): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    // One syntax error derails the parser for the rest of the file: the first few say it all.
    const shown = doc.errors.slice(0, MAX_SYNTAX_ERRORS_SHOWN).map((e) => {
      const pos = lines.linePos(e.pos[0]);
      const lineText = text.split('\n')[pos.line - 1] ?? '';
      const hint = /[{[][^}\]]*\$\{/.test(lineText) ? ' (inside { } or [ ], quote a value that uses ${VAR}: "${VAR}")' : '';
      return { path: `line ${pos.line}, column ${pos.col}`, message: `YAML syntax error: ${firstLine(e.message)}${hint}` };
    });
    throw new ConfigError(file, shown);
  }
  const { value, problems, typed } = interpolateEnv(doc.toJS() ?? {}, env);
  let result = schema.safeParse(value, { reportInput: true });
  // A whole reference whose text looks like a number was typed as one; where the schema
  // wants a string (an id, a numeric password), give it back its text and check again.
  if (!result.success && restoreTextWhereStringExpected(value, typed, result.error.issues)) {
    result = schema.safeParse(value, { reportInput: true });
  }
  const all = [...problems, ...(result.success ? [] : problemsFromZod(result.error.issues))];
  // An unset variable also fails validation at the same path; say it once, the useful way.
  const seen = new Set<string>();
  const unique = all.filter((p) => {
    if (seen.has(p.path)) return false;
    seen.add(p.path);
    return true;
  });
  if (unique.length > 0) throw new ConfigError(file, unique);
  return (result as { data: z.output<S> }).data;
}

export async function loadConfigFile<S extends z.ZodType>(file: string, schema: S, env: Env = process.env): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(file, [{ path: '(file)', message: `cannot read ${file}: ${code}` }]);
  }
  return parseConfigText(text, schema, env, file);
}

function restoreTextWhereStringExpected(
  tree: unknown,
  typed: Array<{ path: PropertyKey[]; text: string }>,
  issues: ReadonlyArray<z.core.$ZodIssue>,
): boolean {
  let restored = false;
  for (const issue of issues) {
    if (issue.code !== 'invalid_type' || issue.expected !== 'string') continue;
    const match = typed.find((t) => t.path.length === issue.path.length && t.path.every((seg, i) => seg === issue.path[i]));
    if (!match || match.path.length === 0) continue;
    let parent = tree as Record<PropertyKey, unknown>;
    for (const segment of match.path.slice(0, -1)) parent = parent[segment] as Record<PropertyKey, unknown>;
    parent[match.path[match.path.length - 1] as PropertyKey] = match.text;
    restored = true;
  }
  return restored;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
