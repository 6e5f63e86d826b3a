import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUALITY_GOOD } from '../../../common/quality.ts';
import { startOpcuaSimulator, TEMPERATURE_RANGE, type RunningOpcuaSim } from '../../../sim/devices/opcua-sim.ts';
import { until } from '../../../test/helpers/wait.ts';
import { SourceWriteError } from '../types.ts';
import { logLines, silentLog, startSource, tempPki, valuesOf } from './test-support.ts';

const COUNTERS = 1_000;
/** Each tick lasts ten sampling intervals, so the server's sampler sees every value. */
const TICK_MS = 1_000;
const TICKS = 5;
const SAMPLING_MS = 100;

describe('OpcuaSource against a node-opcua server', () => {
  let sim: RunningOpcuaSim;
  const pki = tempPki();
  const base = () => ({ endpoint_url: sim.endpointUrl, security: { pki_dir: pki.dir } });

  beforeAll(async () => {
    // Ticks are driven by the tests, so each one knows exactly which values exist.
    sim = await startOpcuaSimulator({ counters: COUNTERS, changeIntervalMs: 0, log: silentLog });
  });
  afterAll(async () => {
    await sim?.stop();
    pki.remove();
  });

  it('delivers every change of 1,000 nodes sampled every 100 ms', async () => {
    const { source, ctx } = await startSource('counters', {
      ...base(),
      groups: [
        {
          publishing_interval_ms: SAMPLING_MS,
          sampling_interval_ms: SAMPLING_MS,
          discover: [{ from: '/Objects/2:Sim/2:Counters', max_depth: 1, max_variables: COUNTERS }],
        },
      ],
    });
    expect(source.stats()).toMatchObject({ nodes: COUNTERS, monitored: COUNTERS, failedNodes: 0, subscriptions: 1 });
    const first = sim.ticks();
    await until('every initial value', () => new Set(ctx.readings.map((r) => r.tag)).size === COUNTERS);
    for (let i = 0; i < TICKS; i++) {
      await sleep(TICK_MS);
      sim.tick();
    }
    const last = sim.ticks();
    await until('the last tick from every node', () => ctx.readings.filter((r) => r.value === last).length === COUNTERS, 10_000);

    const expected = Array.from({ length: last - first + 1 }, (_, k) => first + k);
    const perTag = new Map<string, unknown[]>();
    for (const r of ctx.readings) perTag.set(r.tag, [...(perTag.get(r.tag) ?? []), r.value]);
    const wrong = [...perTag].filter(([, values]) => JSON.stringify(values) !== JSON.stringify(expected));
    expect(perTag.size).toBe(COUNTERS);
    expect(wrong).toEqual([]);
    expect(ctx.readings).toHaveLength(COUNTERS * expected.length);
    expect(ctx.readings[0]).toMatchObject({ source: 'counters', quality: QUALITY_GOOD, details: { protocol: 'opcua', valueType: 'Double' } });
    expect(source.stats()).toMatchObject({ lostMessages: 0 });
    await source.stop();
    await source.stop();
    expect(source.status().state).toBe('stopped');
  }, 60_000);

  it('delivers every builtin type, arrays as JSON, and Bad and Uncertain values with their quality', async () => {
    const types = ['Boolean', 'SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'BigInt64', 'BigUInt64', 'Float', 'Double', 'String', 'DateTime', 'DoubleArray', 'Int64Array'];
    const { source, ctx } = await startSource('types', {
      ...base(),
      groups: [
        {
          nodes: [
            ...types.map((t) => ({ node_id: `ns=${sim.namespaceIndex};s=Types.${t}`, tag: t })),
            { node_id: `nsu=${sim.namespaceUri};s=Quality.Bad`, tag: 'Bad' },
            { node_id: `nsu=${sim.namespaceUri};s=Quality.Uncertain`, tag: 'Uncertain' },
          ],
        },
      ],
    });
    await until('a value per node', () => new Set(ctx.readings.map((r) => r.tag)).size === types.length + 2);
    const last = new Map(ctx.readings.map((r) => [r.tag, r]));
    const value = (tag: string) => last.get(tag)?.value;
    expect(Object.fromEntries(types.map((t) => [t, value(t)]))).toEqual({
      Boolean: true,
      SByte: -12,
      Byte: 200,
      Int16: -30000,
      UInt16: 60000,
      Int32: -2000000000,
      UInt32: 4000000000,
      Int64: 42,
      UInt64: 43,
      BigInt64: '1152921504606846977',
      BigUInt64: '18446744073709551615',
      Float: 21.5,
      Double: 3.141592653589793,
      String: 'hello',
      DateTime: '2024-05-01T12:00:00.123Z',
      DoubleArray: '[1.5,2.5,3.5]',
      Int64Array: '[7,"1152921504606846977"]',
    });
    expect(last.get('Int64Array')?.details).toMatchObject({ valueType: 'Int64[]' });
    expect(last.get('Bad')).toMatchObject({ value: null, quality: 0x808c0000, sourceTimeUs: Date.parse('2024-05-01T00:00:00Z') * 1000 });
    expect(last.get('Uncertain')).toMatchObject({ value: 1.5, quality: 0x40900000 });
    expect(ctx.tags.find((t) => t.tag === 'DoubleArray')).toEqual({ tag: 'DoubleArray', dataType: 'Double', isArray: true });
    expect(ctx.tags.find((t) => t.tag === 'BigInt64')).toEqual({ tag: 'BigInt64', dataType: 'Int64' });
    await source.stop();
  });

  it('keeps delivering a String node whose deadband the server refuses, and says so', async () => {
    const ns = sim.namespaceIndex;
    const { source, ctx } = await startSource('deadband', {
      ...base(),
      groups: [
        {
          publishing_interval_ms: SAMPLING_MS,
          sampling_interval_ms: SAMPLING_MS,
          filter: { deadband_type: 'absolute', deadband_value: 0.5 },
          nodes: [
            { node_id: `ns=${ns};s=Analog.State`, tag: 'state' },
            { node_id: `ns=${ns};s=Counters.C00000`, tag: 'counter-percent', filter: { trigger: 'StatusValueTimestamp', deadband_type: 'percent', deadband_value: 10 } },
            { node_id: `ns=${ns};s=Analog.Temperature`, tag: 'temperature', filter: { deadband_type: 'percent', deadband_value: 1 } },
          ],
        },
      ],
    });
    const start = sim.ticks();
    sim.tick();
    await sleep(3 * SAMPLING_MS);
    sim.tick();
    await until('the String node after two ticks', () => valuesOf(ctx.readings, 'state').includes(`state-${start + 2}`));
    expect(valuesOf(ctx.readings, 'state')).toEqual([`state-${start}`, `state-${start + 1}`, `state-${start + 2}`]);
    await until('the counter without EURange after two ticks', () => valuesOf(ctx.readings, 'counter-percent').includes(start + 2));
    expect(source.stats()).toMatchObject({ monitored: 3, filterFallbacks: 2, failedNodes: 0 });
    const [line] = logLines(ctx, 'Nodes refused their DataChangeFilter; they are monitored without it.');
    expect(line).toMatchObject({ level: 'warn', count: 2 });
    expect(line?.nodes).toContain(`ns=${ns};s=Analog.State (BadFilterNotAllowed, now no filter)`);
    expect(line?.nodes).toContain(`ns=${ns};s=Counters.C00000 (BadMonitoredItemFilterUnsupported, now trigger only)`);
    expect(ctx.tags.find((t) => t.tag === 'temperature')).toEqual({ tag: 'temperature', dataType: 'Double', unit: '°C', euRange: TEMPERATURE_RANGE });
    await source.stop();
  });

  it('reports nodes it cannot read, by name, and reads the others', async () => {
    const ns = sim.namespaceIndex;
    const { source, ctx } = await startSource('missing', {
      ...base(),
      groups: [{ nodes: [{ node_id: `ns=${ns};s=Types.Double` }, { node_id: `ns=${ns};s=Nope` }, { browse_path: '/Objects/2:Sim/2:Nowhere' }, { node_id: 'nsu=urn:not-here;s=X' }] }],
    });
    expect(source.stats()).toMatchObject({ nodes: 2, monitored: 1, failedNodes: 3 });
    expect(source.status().lastError).toBe(`1 node(s) could not be monitored: ns=${ns};s=Nope (BadNodeIdUnknown)`);
    expect(source.status().details?.notRead).toEqual([
      '/Objects/2:Sim/2:Nowhere (BadNoMatch)',
      "nsu=urn:not-here;s=X (namespace urn:not-here is not in the server's namespace array)",
      `ns=${ns};s=Nope (BadNodeIdUnknown)`,
    ]);
    expect(logLines(ctx, 'Configured nodes were not found on the server; they are not read.')[0]).toMatchObject({
      level: 'error',
      count: 2,
      nodes: '/Objects/2:Sim/2:Nowhere (BadNoMatch), nsu=urn:not-here;s=X (namespace urn:not-here is not in the server\'s namespace array)',
    });
    expect(logLines(ctx, 'Nodes could not be monitored; they are not read.')[0]).toMatchObject({ level: 'error', count: 1, nodes: `ns=${ns};s=Nope (BadNodeIdUnknown)` });
    await until('the readable node', () => ctx.readings.some((r) => r.tag === `ns=${ns};s=Types.Double`));
    expect(ctx.tags.map((t) => t.tag)).toEqual([`ns=${ns};s=Types.Double`]);
    await source.stop();
  });

  it('writes through to nodes marked writable, and refuses the rest with the reason', async () => {
    const ns = sim.namespaceIndex;
    const { source, ctx } = await startSource('writes', {
      ...base(),
      groups: [
        {
          publishing_interval_ms: SAMPLING_MS,
          nodes: [
            { node_id: `ns=${ns};s=Writable.Setpoint`, tag: 'setpoint', writable: true },
            { node_id: `ns=${ns};s=Writable.Count`, tag: 'count', writable: true },
            { node_id: `ns=${ns};s=Writable.ReadOnly`, tag: 'readonly', writable: true },
            { node_id: `ns=${ns};s=Writable.Mode`, tag: 'mode' },
          ],
        },
      ],
    });
    await source.write('setpoint', 12.5);
    await source.write('count', '1152921504606846977');
    await until('the written values read back', () => valuesOf(ctx.readings, 'setpoint').includes(12.5) && valuesOf(ctx.readings, 'count').includes('1152921504606846977'));
    const refusal = (tag: string, value: string | number) => source.write(tag, value).then(() => 'written', (e: SourceWriteError) => `${e.reason}: ${e.message}`);
    expect(await refusal('readonly', 1)).toBe('not_writable: the server refused the write to readonly: BadNotWritable');
    expect(await refusal('mode', 'manual')).toBe('not_writable: tag mode is not writable: set writable: true on its node in the config');
    expect(await refusal('setpoint', 'high')).toBe('bad_value: cannot write setpoint: a Double node takes a number, got "high"');
    expect(await refusal('nothing', 1)).toBe('unknown_tag: unknown tag nothing');
    expect(ctx.tags.filter((t) => t.writable).map((t) => t.tag)).toEqual(['setpoint', 'count', 'readonly']);
    await source.stop();
    expect(await refusal('setpoint', 1)).toBe('device: cannot write setpoint: not connected to the OPC UA server');
  });

  it('pauses by turning publishing off, and delivers what the server queued meanwhile on resume', async () => {
    const ns = sim.namespaceIndex;
    const { source, ctx } = await startSource('pause', {
      ...base(),
      groups: [{ publishing_interval_ms: SAMPLING_MS, sampling_interval_ms: SAMPLING_MS, queue_size: 10, nodes: [{ node_id: `ns=${ns};s=Counters.C00007`, tag: 'c7' }] }],
    });
    const start = sim.ticks();
    await until('the initial value', () => valuesOf(ctx.readings, 'c7').includes(start));
    expect(source.pause()).toBe(true);
    await until('publishing off', () => source.status().details?.paused === true);
    await sleep(3 * SAMPLING_MS);
    const before = ctx.readings.length;
    for (let i = 0; i < 3; i++) {
      sim.tick();
      await sleep(3 * SAMPLING_MS);
    }
    expect(ctx.readings.length).toBe(before);
    source.resume();
    await until('the queued values', () => valuesOf(ctx.readings, 'c7').includes(start + 3));
    expect(valuesOf(ctx.readings, 'c7')).toEqual([start, start + 1, start + 2, start + 3]);
    expect(source.status().details).toMatchObject({ paused: false, monitored: 1, notRead: [] });
    await source.stop();
  });

  it('polls nodes with batched reads in poll mode', async () => {
    const ns = sim.namespaceIndex;
    const { source, ctx } = await startSource('poll', {
      ...base(),
      max_nodes_per_read: 2,
      groups: [{ mode: 'poll', poll_interval_ms: 100, nodes: ['Double', 'Int32', 'String'].map((t) => ({ node_id: `ns=${ns};s=Types.${t}`, tag: t })) }],
    });
    expect(source.stats()).toMatchObject({ polled: 3, monitored: 0, subscriptions: 0 });
    await until('three polls of every node', () => ['Double', 'Int32', 'String'].every((t) => valuesOf(ctx.readings, t).length >= 3));
    expect(valuesOf(ctx.readings, 'String').slice(0, 3)).toEqual(['hello', 'hello', 'hello']);
    source.pause();
    await until('a poll cycle skipped', () => Number(source.status().details?.pollsPaused) > 0);
    const paused = ctx.readings.length;
    await sleep(300);
    expect(ctx.readings.length).toBe(paused);
    source.resume();
    await until('polling again', () => ctx.readings.length > paused);
    await source.stop();
  });
});
