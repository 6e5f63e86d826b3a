import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QUALITY_BAD, QUALITY_GOOD } from '../../../common/quality.ts';
import type { SourceReading } from '../../../common/reading.ts';
import { CompiledReport, reportSchema } from './config.ts';
import { SourceFilter } from './filter.ts';
import { isReported } from './rules.ts';

const T0_MS = Date.UTC(2024, 4, 1);
const US_PER_MS = 1000;

function reading(tag: string, value: SourceReading['value'], quality = QUALITY_GOOD): SourceReading {
  const t = Date.now() * US_PER_MS;
  return { source: 's', tag, value, quality, sourceTimeUs: t, gatewayTimeUs: t, details: { protocol: 'mqtt', topic: tag, qos: 0, retain: false } };
}

function setup(report: Record<string, unknown>) {
  const beats: SourceReading[] = [];
  const filter = new SourceFilter(new CompiledReport(reportSchema.parse(report)), (r) => beats.push(r));
  const offer = (tag: string, value: SourceReading['value'], quality?: number) => isReported(filter.offer(reading(tag, value, quality)));
  return { filter, beats, offer };
}

describe('SourceFilter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0_MS });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports a ramp in 0.25 steps only past an absolute deadband of 0.5', () => {
    const { offer } = setup({ mode: 'deadband', deadband_abs: 0.5 });
    const values = Array.from({ length: 13 }, (_, i) => i * 0.25);
    expect(values.filter((v) => offer('t', v))).toEqual([0, 0.75, 1.5, 2.25, 3]);
  });

  it('lets every quality change through, and measures the band from the last reported value', () => {
    const { offer } = setup({ mode: 'deadband', deadband_abs: 1 });
    expect([offer('t', 10), offer('t', 10.5, QUALITY_BAD), offer('t', 10.5, QUALITY_BAD), offer('t', 10.6), offer('t', 11.4), offer('t', 11.7)]).toEqual([
      true,
      true,
      false,
      true,
      false,
      true,
    ]);
  });

  it('takes a percent band of the EURange a source declared, per tag', () => {
    const { filter, offer } = setup({ mode: 'deadband', deadband_pct: 1 });
    filter.describe([{ tag: 'ranged', euRange: { low: 0, high: 1000 } }, { tag: 'plain' }]);
    expect([offer('ranged', 100), offer('ranged', 109), offer('ranged', 111)]).toEqual([true, false, true]);
    expect([offer('plain', 100), offer('plain', 100.9), offer('plain', 101.1)]).toEqual([true, false, true]);
  });

  it('applies per-tag overrides by pattern, first match first, and keeps no state for pass-through tags', () => {
    const { filter, offer } = setup({
      mode: 'change',
      tags: [
        { match: 'line1/**', mode: 'none' },
        { match: '*/speed', mode: 'deadband', deadband_abs: 5 },
      ],
    });
    expect([offer('line1/motor/speed', 1), offer('line1/motor/speed', 1)]).toEqual([true, true]);
    expect([offer('line2/speed', 1), offer('line2/speed', 4), offer('line2/speed', 7)]).toEqual([true, false, true]);
    expect([offer('temp', 1), offer('temp', 1), offer('temp', 2)]).toEqual([true, false, true]);
    expect(filter.trackedTags).toBe(2);
  });

  it('sends a heartbeat with the latest value after heartbeat_s without a report, with its source time and a new gateway time', () => {
    const { beats, offer } = setup({ mode: 'change', heartbeat_s: 10 });
    offer('t', 5);
    // The same value every second: filtered, but it is the latest reading.
    for (let s = 1; s <= 25; s++) {
      vi.advanceTimersByTime(1000);
      expect(offer('t', 5)).toBe(false);
    }
    expect(beats.map((b) => [b.value, (b.gatewayTimeUs / US_PER_MS - T0_MS) / 1000, (b.sourceTimeUs / US_PER_MS - T0_MS) / 1000])).toEqual([
      // The timer fires before the reading of the same second: the beat carries second 9's.
      [5, 10, 9],
      [5, 20, 19],
    ]);
  });

  it('beats every heartbeat_s for a silent tag, and a report postpones the next beat', () => {
    const { beats, offer } = setup({ mode: 'change', heartbeat_s: 10 });
    offer('t', 1);
    vi.advanceTimersByTime(25_000);
    expect(beats.map((b) => (b.gatewayTimeUs / US_PER_MS - T0_MS) / 1000)).toEqual([10, 20]);
    expect(beats.every((b) => b.sourceTimeUs === T0_MS * US_PER_MS)).toBe(true);
    offer('t', 2);
    vi.advanceTimersByTime(9_999);
    expect(beats).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(beats.map((b) => b.value)).toEqual([1, 1, 2]);
  });

  it('re-sends the latest value, not the last reported one, and measures the band from it', () => {
    const { beats, offer } = setup({ mode: 'deadband', deadband_abs: 1, heartbeat_s: 5 });
    offer('t', 10);
    vi.advanceTimersByTime(1000);
    expect(offer('t', 10.8)).toBe(false);
    vi.advanceTimersByTime(4000);
    expect(beats.map((b) => b.value)).toEqual([10.8]);
    expect(offer('t', 11.5)).toBe(false);
    expect(offer('t', 11.9)).toBe(true);
  });

  it('keeps one heartbeat schedule per period across tags', () => {
    const { beats, offer } = setup({ mode: 'change', heartbeat_s: 10, tags: [{ match: 'fast', heartbeat_s: 3 }] });
    offer('slow', 1);
    offer('fast', 1);
    vi.advanceTimersByTime(10_000);
    expect(beats.map((b) => [b.tag, (b.gatewayTimeUs / US_PER_MS - T0_MS) / 1000])).toEqual([
      ['fast', 3],
      ['fast', 6],
      ['fast', 9],
      ['slow', 10],
    ]);
  });

  it('sends no heartbeat after stop', () => {
    const { filter, beats, offer } = setup({ mode: 'none', heartbeat_s: 1 });
    offer('t', 1);
    filter.stop();
    filter.stop();
    vi.advanceTimersByTime(10_000);
    expect(beats).toEqual([]);
  });
});
