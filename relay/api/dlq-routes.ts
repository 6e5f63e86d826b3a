import { Hono, type Context } from 'hono';
import { DeadLetterCorruptError, DeadLetterNotFoundError, NotReplayableError } from '../../common/dlq/errors.ts';
import type { DeadLetter } from '../../common/dlq/entry.ts';
import type { DeadLetterStore, ReplayEnqueue } from '../../common/dlq/store.ts';
import type { Logger } from '../../common/logger.ts';
import { decodeRecord } from '../../common/records/encode.ts';
import type { Secret } from '../../common/secret.ts';
import { requireToken } from './auth.ts';
import { idParam, listQuery, parseOr400, replayAllQuery } from './validate.ts';

export interface DlqRouteDeps {
  dlq: DeadLetterStore;
  enqueue: ReplayEnqueue;
  token: Secret | undefined;
  log: Logger;
}

/** GET /dlq, GET /dlq/:id, POST /dlq/:id/replay, POST /dlq/replay?table=, DELETE /dlq/:id. */
export function dlqRoutes(deps: DlqRouteDeps): Hono {
  const app = new Hono();
  const guard = requireToken(deps.token);
  const { dlq, log } = deps;

  app.get('/', async (c) => {
    const q = parseOr400(c, listQuery, c.req.query());
    if (!q.ok) return q.response;
    const page = await dlq.list(q.value);
    return c.json({ table: q.value.table ?? null, entries: page.entries, nextCursor: page.nextCursor ?? null });
  });

  app.post('/replay', guard, async (c) => {
    const q = parseOr400(c, replayAllQuery, c.req.query());
    if (!q.ok) return q.response;
    const { table, limit } = q.value;
    let replayed = 0;
    let records = 0;
    let skippedPayloads = 0;
    let cursor: string | undefined;
    do {
      const page = await dlq.list({ table, limit: Math.min(100, limit - replayed), ...(cursor ? { cursor } : {}) });
      for (const entry of page.entries) {
        if (entry.kind !== 'batch') {
          skippedPayloads++;
          continue;
        }
        try {
          records += (await dlq.replay(entry.id, deps.enqueue)).records;
          replayed++;
        } catch (err) {
          // Replayed or deleted by someone else meanwhile: nothing to do.
          if (!(err instanceof DeadLetterNotFoundError)) throw err;
        }
      }
      cursor = page.nextCursor;
    } while (cursor && replayed < limit);
    log.info({ table, replayed, records, skippedPayloads }, 'Replayed dead-lettered batches of a table.');
    return c.json({ table, replayed, records, skippedPayloads, remaining: await dlq.count(table) });
  });

  app.get('/:id', async (c) => {
    const p = parseOr400(c, idParam, c.req.param());
    if (!p.ok) return p.response;
    const entry = await dlq.get(p.value.id).catch(corrupt);
    if (entry instanceof Response) return entry;
    if (!entry) return notFound(c, p.value.id);
    return c.json({ ...entry, ...(entry.kind === 'batch' ? { decoded: decodeForView(entry) } : {}) });
  });

  app.post('/:id/replay', guard, async (c) => {
    const p = parseOr400(c, idParam, c.req.param());
    if (!p.ok) return p.response;
    try {
      const result = await dlq.replay(p.value.id, deps.enqueue);
      log.info({ id: result.id, table: result.table, jobId: result.jobId, records: result.records }, 'Replayed a dead-lettered batch.');
      return c.json({ replayed: true, ...result }, 202);
    } catch (err) {
      if (err instanceof DeadLetterNotFoundError) return notFound(c, p.value.id);
      if (err instanceof NotReplayableError) return c.json({ error: 'not_replayable', id: err.id, message: err.message }, 409);
      if (err instanceof DeadLetterCorruptError) return c.json({ error: 'corrupt_entry', id: err.id, message: err.message }, 422);
      throw err;
    }
  });

  app.delete('/:id', guard, async (c) => {
    const p = parseOr400(c, idParam, c.req.param());
    if (!p.ok) return p.response;
    if (!(await dlq.delete(p.value.id))) return notFound(c, p.value.id);
    log.info({ id: p.value.id }, 'Deleted a dead letter.');
    return c.json({ deleted: true, id: p.value.id });
  });

  return app;
}

function notFound(c: Context, id: string): Response {
  return c.json({ error: 'not_found', message: `dead letter ${id} does not exist (never stored, or already replayed or deleted)` }, 404);
}

function corrupt(err: unknown): Response {
  if (err instanceof DeadLetterCorruptError) return Response.json({ error: 'corrupt_entry', id: err.id, message: err.message }, { status: 422 });
  throw err;
}

/** Each record as a row, where it decodes, else why not: what an operator needs to fix it. */
function decodeForView(entry: Extract<DeadLetter, { kind: 'batch' }>): Array<{ index: number; row?: unknown; error?: string }> {
  return entry.records.map((record, i) => {
    const index = entry.recordIndexes[i] ?? i;
    try {
      return { index, row: entry.recordType === 'proto' ? decodeRecord(entry.messageType, record) : JSON.parse(record) };
    } catch (err) {
      return { index, error: (err as Error).message };
    }
  });
}
