import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { nowUs } from '../../../common/reading.ts';
import { startOpcuaSimulator, type RunningOpcuaSim } from '../../../sim/devices/opcua-sim.ts';
import { freePort } from '../../../test/helpers/ports.ts';
import { until } from '../../../test/helpers/wait.ts';
import { startTcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { logLines, silentLog, startSource, tempPki, valuesOf } from './test-support.ts';

const COUNTERS = 10;
const RESTART_DEADLINE_MS = 30_000;

const counterNodes = (ns: number) => Array.from({ length: COUNTERS }, (_, i) => ({ node_id: `ns=${ns};s=Counters.C0000${i}`, tag: `c${i}` }));

/**
 * The distinct values, in order: a transfer sends each node's current value again, and a
 * republished message arrives after the ones that overtook it.
 */
const distinctSorted = (values: unknown[]) => [...new Set(values as number[])].sort((a, b) => a - b);

describe('OpcuaSource reconnection', () => {
  const pki = tempPki();
  /** The server's own PKI, kept over its restart as a real server keeps its certificate. */
  const serverPki = tempPki();
  const sims: RunningOpcuaSim[] = [];
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    pki.remove();
    serverPki.remove();
  });

  it('reads again after the server restarts on the same port, with its backoff and no restart of its own', async () => {
    const port = await freePort();
    const first = await startOpcuaSimulator({ port, pkiDir: serverPki.dir, counters: COUNTERS, changeIntervalMs: 0, log: silentLog });
    sims.push(first);
    const { source, ctx } = await startSource('restart', {
      endpoint_url: first.endpointUrl,
      security: { pki_dir: pki.dir },
      groups: [{ publishing_interval_ms: 100, sampling_interval_ms: 100, nodes: counterNodes(first.namespaceIndex) }],
    });
    const declared = ctx.tags.length;
    first.tick();
    await until('the first tick', () => valuesOf(ctx.readings, 'c0').includes(1));

    await first.stop();
    await until('the loss noticed', () => source.status().state !== 'connected');
    const restartedUs = nowUs();
    const second = await startOpcuaSimulator({ port, pkiDir: serverPki.dir, counters: COUNTERS, changeIntervalMs: 0, log: silentLog });
    sims.push(second);
    await until('connected again', () => source.status().state === 'connected', RESTART_DEADLINE_MS);
    second.tick();
    second.tick();
    await until('a tick of the restarted server from every node', () => ctx.readings.filter((r) => r.gatewayTimeUs > restartedUs && r.value === 2).length === COUNTERS);

    expect(source.stats()).toMatchObject({ sessions: 2, transferred: 0, monitored: COUNTERS, lostMessages: 0 });
    expect(logLines(ctx, 'Lost the OPC UA session; reconnecting.')).toHaveLength(1);
    // Every wait followed the configured backoff: 1 s doubling, each a draw between half the ceiling and the ceiling.
    const waits = logLines(ctx, 'Waiting before reconnecting to OPC UA server.');
    expect(waits.length).toBeGreaterThan(0);
    for (const w of waits) {
      const ceiling = Math.min(300_000, 1_000 * 2 ** (Number(w.attempt) - 1));
      expect(Number(w.delayMs)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Number(w.delayMs)).toBeLessThanOrEqual(ceiling);
    }
    expect(waits.map((w) => w.attempt)).toEqual(waits.map((_, i) => i + 1));
    // The restarted server has the same nodes: the tags are not declared again.
    expect(ctx.tags).toHaveLength(declared);
    await source.stop();
  }, 60_000);

  it('transfers its subscriptions to a new session after a dropped connection, and misses no change', async () => {
    const sim = await startOpcuaSimulator({ counters: COUNTERS, changeIntervalMs: 0, log: silentLog });
    sims.push(sim);
    const proxy = await startTcpProxy(sim.port);
    const { source, ctx } = await startSource('transfer', {
      endpoint_url: `opc.tcp://127.0.0.1:${proxy.port}/sim`,
      security: { pki_dir: pki.dir },
      reconnect: { initial_delay_ms: 200 },
      groups: [{ publishing_interval_ms: 100, sampling_interval_ms: 50, queue_size: 50, nodes: counterNodes(sim.namespaceIndex) }],
    });
    const start = sim.ticks();
    const ticker = setInterval(() => sim.tick(), 200);
    try {
      await until('a few ticks', () => valuesOf(ctx.readings, 'c0').length >= 3);
      proxy.drop();
      await until('the subscription transferred', () => source.stats().transferred === 1, RESTART_DEADLINE_MS);
      await sleep(1_000);
    } finally {
      clearInterval(ticker);
    }
    const last = sim.ticks();
    await until('the last tick from every node', () => Array.from({ length: COUNTERS }, (_, i) => valuesOf(ctx.readings, `c${i}`)).every((v) => v.includes(last)));

    const expected = Array.from({ length: last - start + 1 }, (_, k) => start + k);
    for (let i = 0; i < COUNTERS; i++) expect(distinctSorted(valuesOf(ctx.readings, `c${i}`))).toEqual(expected);
    expect(source.stats()).toMatchObject({ sessions: 2, transferred: 1, recreated: 0, lostMessages: 0 });
    expect(logLines(ctx, 'Transferred subscriptions to the new session.')[0]).toMatchObject({ transferred: 1, recreating: 0 });
    await source.stop();
    await proxy.close();
  }, 60_000);
});
