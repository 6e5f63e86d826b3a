import type { Context } from 'hono';
import { z } from 'zod';
import { problemsFromZod } from '../../common/config/issues.ts';
import { CURSOR_PATTERN } from '../../common/dlq/keys.ts';
import { deadLetterId } from '../../common/dlq/entry.ts';
import { tableName } from '../../common/tables.ts';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1_000;
export const DEFAULT_REPLAY_LIMIT = 1_000;
export const MAX_REPLAY_LIMIT = 10_000;

const limit = (fallback: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((n) => n ?? fallback);

export const listQuery = z
  .object({
    table: tableName.optional(),
    limit: limit(DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT),
    cursor: z.string().regex(CURSOR_PATTERN, { message: 'expected a nextCursor value from an earlier page' }).optional(),
  })
  .strict();

export const replayAllQuery = z
  .object({
    table: tableName,
    limit: limit(DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT),
  })
  .strict();

export const idParam = z.object({ id: deadLetterId }).strict();

export interface Problem {
  path: string;
  message: string;
}

/** Parses input with a schema; on failure, the 400 answer that says what is wrong. */
export function parseOr400<S extends z.ZodType>(c: Context, schema: S, input: unknown): { ok: true; value: z.output<S> } | { ok: false; response: Response } {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems: Problem[] = problemsFromZod(parsed.error.issues);
  return { ok: false, response: c.json({ error: 'bad_request', message: problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems }, 400) };
}
