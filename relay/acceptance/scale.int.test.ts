import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultsSchema } from '../../sim/zerobus/faults.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import { until } from '../../test/helpers/wait.ts';
import { TEST_API_TOKEN, relayYaml } from '../test-support/config.ts';
import { TestQueue } from '../test-support/jobs.ts';
import { startRelayProcess, type RelayProcess } from '../test-support/relay-process.ts';

const TABLE = 'main.iot.scale';
const JOBS = 80;
const BATCH = 200;

describe('two relays on one queue (child processes)', () => {
  const prefix = uniquePrefix('scale');
  const redisUrl = testRedisUrl();
  let emulator: TestEmulator;
  let dir: string;
  let queue: TestQueue;
  const relays: RelayProcess[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    dir = await mkdtemp(join(tmpdir(), 'relay-scale-'));
    queue = new TestQueue({ url: redisUrl, prefix, table: TABLE });
    for (const id of ['relay-a', 'relay-b']) {
      const port = await freePort();
      const yaml = relayYaml({ emulator, redisUrl, prefix, id, port, sections: { workers: `{ tables: [${TABLE}], concurrency: 4, discovery_interval_ms: 200 }` } });
      relays.push(await startRelayProcess(join(dir, `${id}.yaml`), yaml, port));
    }
  });
  afterAll(async () => {
    for (const r of relays) if (r.child.exitCode === null && r.child.signalCode === null) r.kill('SIGKILL');
    await Promise.all(relays.map((r) => r.exited));
    await queue?.close();
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
    await deletePrefix(prefix, redisUrl);
  });

  it('shares the work with no job processed twice', { timeout: 60_000 }, async () => {
    // Slow enough acks that both relays have batches in flight at once.
    emulator.faults.replace(faultsSchema.parse({ ack_delay_ms: 30 }));
    const ids = await queue.addBatches(JOBS, BATCH);
    await until('every job to complete', async () => ((await queue.counts()).completed ?? 0) === JOBS || undefined, 45_000);

    const report = await emulator.duplicates(TABLE);
    expect(report).toMatchObject({ rows: JOBS * BATCH, distinct: JOBS * BATCH, duplicates: 0 });
    const jobs = await Promise.all(ids.map((id) => queue.queue.getJob(id)));
    const byRelay = new Map<string, number>();
    for (const job of jobs) {
      expect(job?.attemptsStarted).toBe(1);
      expect(job?.stalledCounter).toBe(0);
      byRelay.set(job?.processedBy ?? '?', (byRelay.get(job?.processedBy ?? '?') ?? 0) + 1);
    }
    expect([...byRelay.keys()].sort()).toEqual(['relay-a', 'relay-b']);
    const completed = await Promise.all(relays.map(async (r) => (await r.status()).workers.find((w) => w.table === TABLE)?.jobsCompleted ?? 0));
    expect(completed.every((n) => n > 0)).toBe(true);
    expect(completed[0]! + completed[1]!).toBe(JOBS);
    expect(completed).toEqual([byRelay.get('relay-a'), byRelay.get('relay-b')]);
  });

  it('enforces the API token over HTTP', async () => {
    const url = `${relays[0]?.url}/dlq/replay?table=${TABLE}`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { authorization: 'Bearer not-the-token-000000' } })).status).toBe(401);
    const ok = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ table: TABLE, replayed: 0 });
  });

  it('stops both relays on SIGTERM with exit code 0', async () => {
    for (const r of relays) r.kill('SIGTERM');
    expect(await Promise.all(relays.map((r) => r.exited))).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});
