import { z } from 'zod';
import { batchDeadLetterSchema, payloadDeadLetterSchema } from '../../common/dlq/entry.ts';
import { DEFAULT_LIST_LIMIT, DEFAULT_REPLAY_LIMIT, MAX_LIST_LIMIT, MAX_REPLAY_LIMIT } from './validate.ts';

const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => json(ref('Error'), description);
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const tableSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'catalog.schema.table' };
const guarded = { security: [{ bearer: [] }], 401: error('No or wrong bearer token.'), 403: error('No api.token is configured: mutating endpoints are off.') };

let cached: object | undefined;

/** The relay's API as an OpenAPI 3.1 document, served at /openapi.json. Entry schemas come from the zod schemas. */
export function openApiDocument(): object {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'IoT connector relay', version: '0.1.0', description: 'Status, metrics and dead letters of a relay. See docs/relay-api.md.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The api.token of the relay configuration.' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', description: 'bad_request, unauthorized, forbidden, not_found, not_replayable, corrupt_entry or unavailable' },
            message: { type: 'string' },
            problems: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
        BatchDeadLetter: z.toJSONSchema(batchDeadLetterSchema, { target: 'draft-2020-12' }),
        PayloadDeadLetter: z.toJSONSchema(payloadDeadLetterSchema, { target: 'draft-2020-12' }),
      },
    },
    paths: {
      '/health': { get: { summary: 'Liveness: the process answers.', responses: { 200: json({ type: 'object' }, '{"status":"ok"}') } } },
      '/ready': {
        get: {
          summary: 'Readiness: Redis answers and the Zerobus endpoint accepts a connection.',
          responses: { 200: json({ type: 'object' }, 'Ready, with each check.'), 503: json({ type: 'object' }, 'Not ready, with the failing check.') },
        },
      },
      '/status': { get: { summary: 'Per table and per worker: queue counts, records/s, ack latency, circuit, stream, last error.', responses: { 200: json({ type: 'object' }, 'The status.') } } },
      '/metrics': { get: { summary: 'Prometheus metrics.', responses: { 200: { description: 'Prometheus text format.', content: { 'text/plain': {} } } } } },
      '/dlq': {
        get: {
          summary: 'Dead letters, oldest first, without their records or payloads.',
          parameters: [
            { name: 'table', in: 'query', schema: tableSchema },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page.' },
          ],
          responses: { 200: json({ type: 'object' }, '{table, entries, nextCursor}'), 400: error('A malformed parameter, named.') },
        },
      },
      '/dlq/{id}': {
        get: {
          summary: 'One dead letter, whole; batch records also decoded to rows where they decode.',
          parameters: [idParameter],
          responses: { 200: json({ oneOf: [ref('BatchDeadLetter'), ref('PayloadDeadLetter')] }, 'The entry.'), 404: error('No such entry.') },
        },
        delete: {
          summary: 'Deletes a dead letter.',
          security: guarded.security,
          parameters: [idParameter],
          responses: { 200: json({ type: 'object' }, '{deleted: true, id}'), 401: guarded[401], 403: guarded[403], 404: error('No such entry.') },
        },
      },
      '/dlq/{id}/replay': {
        post: {
          summary: "Puts a batch entry's records back on its table's queue and removes the entry.",
          security: guarded.security,
          parameters: [idParameter],
          responses: {
            202: json({ type: 'object' }, '{replayed: true, id, jobId, table, records}'),
            401: guarded[401],
            403: guarded[403],
            404: error('No such entry.'),
            409: error('A payload entry: a raw payload never became records, so there is nothing to replay.'),
          },
        },
      },
      '/dlq/replay': {
        post: {
          summary: "Replays a table's batch entries, oldest first; payload entries are skipped and counted.",
          security: guarded.security,
          parameters: [
            { name: 'table', in: 'query', required: true, schema: tableSchema },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_REPLAY_LIMIT, default: DEFAULT_REPLAY_LIMIT } },
          ],
          responses: { 200: json({ type: 'object' }, '{table, replayed, records, skippedPayloads, remaining}'), 400: error('Missing or malformed table.'), 401: guarded[401], 403: guarded[403] },
        },
      },
    },
  };
  return cached;
}
