import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogger } from '../../test/helpers/logs.ts';
import { createPipelineMetrics } from './metrics.ts';
import { MAX_KEPT_PAYLOAD_CHARS, REJECTION_LOG_INTERVAL_MS, REJECTIONS_KEPT_PER_SOURCE, RejectionStore } from './rejections.ts';

function setup() {
  const registry = new Registry();
  const logs = captureLogger();
  const store = new RejectionStore(logs.log, createPipelineMetrics(registry));
  const warnings = () => logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'warn');
  return { registry, store, warnings };
}

const rejection = (n: number, kind = 'invalid_json') => ({ origin: `t/${n}`, kind, reason: `bad ${n}`, payload: `p${n}` });

describe('RejectionStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts per source and per kind in records_rejected_total', async () => {
    const { registry, store } = setup();
    store.record('a', rejection(1));
    store.record('a', rejection(2, 'value_not_found'));
    store.record('b', { origin: 'x', reason: 'r', payload: '' });
    expect([store.count('a'), store.count('b'), store.count('c')]).toEqual([2, 1, 0]);
    const values = (await registry.getSingleMetric('records_rejected_total')?.get())?.values.map((v) => [v.labels, v.value]);
    expect(values).toEqual([
      [{ source: 'a', reason: 'invalid_json' }, 1],
      [{ source: 'a', reason: 'value_not_found' }, 1],
      [{ source: 'b', reason: 'invalid_payload' }, 1],
    ]);
  });

  it('keeps only the newest rejections per source, with long payloads cut', () => {
    const { store } = setup();
    for (let i = 1; i <= REJECTIONS_KEPT_PER_SOURCE + 5; i++) store.record('a', rejection(i));
    const kept = store.recent('a');
    expect(kept).toHaveLength(REJECTIONS_KEPT_PER_SOURCE);
    expect(kept[0]?.origin).toBe('t/6');
    store.record('a', { origin: 'o', reason: 'r', payload: 'x'.repeat(MAX_KEPT_PAYLOAD_CHARS + 1) });
    expect(store.recent('a').at(-1)).toMatchObject({ payloadTruncated: true, payload: 'x'.repeat(MAX_KEPT_PAYLOAD_CHARS) });
  });

  it('logs one warning per source per interval, then one line with the count of the rest', async () => {
    const { store, warnings } = setup();
    for (let i = 1; i <= 50; i++) store.record('a', rejection(i));
    store.record('b', rejection(99));
    expect(warnings().map((w) => [w.source, w.count])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    await vi.advanceTimersByTimeAsync(REJECTION_LOG_INTERVAL_MS);
    expect(warnings().map((w) => [w.source, w.count, w.reason])).toEqual([
      ['a', 1, 'bad 1'],
      ['b', 1, 'bad 99'],
      ['a', 49, 'bad 50'],
    ]);
    expect(warnings()[0]?.msg).toBe('Rejected payloads that could not become readings.');
  });

  it('writes the held-back count at flush', () => {
    const { store, warnings } = setup();
    store.record('a', rejection(1));
    store.record('a', rejection(2));
    store.flush();
    expect(warnings().map((w) => w.count)).toEqual([1, 1]);
    vi.advanceTimersByTime(REJECTION_LOG_INTERVAL_MS * 2);
    expect(warnings()).toHaveLength(2);
  });

  it('hands every rejection, with its whole payload, to subscribers until they unsubscribe', () => {
    const { store } = setup();
    const seen: Array<[string, string]> = [];
    const off = store.subscribe((e) => seen.push([e.source, e.rejection.payload]));
    store.subscribe(() => {
      throw new Error('a failing listener');
    });
    const big = 'y'.repeat(MAX_KEPT_PAYLOAD_CHARS * 2);
    store.record('a', { origin: 'o', reason: 'r', payload: big });
    off();
    store.record('a', rejection(2));
    expect(seen).toEqual([['a', big]]);
    expect(store.count('a')).toBe(2);
  });
});
