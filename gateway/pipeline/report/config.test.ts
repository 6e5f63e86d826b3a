import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfigText } from '../../../common/config/load.ts';
import { slowSignal } from '../../test-support/signal.ts';
import { CompiledReport, reportSchema } from './config.ts';
import { SourceFilter } from './filter.ts';
import { isReported } from './rules.ts';

const problems = (yaml: string): string[] => {
  try {
    parseConfigText(yaml, reportSchema, {});
    return [];
  } catch (err) {
    return (err as { lines(): string[] }).lines();
  }
};

describe('report config', () => {
  it('defaults to reporting everything, with no state kept', () => {
    const report = new CompiledReport(reportSchema.parse({}));
    expect(report.passThrough).toBe(true);
    expect(report.rule('any')).toEqual({ mode: 'none', deadbandAbs: 0, deadbandPct: 0, percentOf: 'eu_range', heartbeatMs: 0 });
  });

  it('merges a tag override key by key over the source settings', () => {
    const report = new CompiledReport(reportSchema.parse({ mode: 'deadband', deadband_abs: 2, heartbeat_s: 60, tags: [{ match: 'a/*', deadband_pct: 5 }] }));
    expect(report.rule('a/x')).toEqual({ mode: 'deadband', deadbandAbs: 2, deadbandPct: 5, percentOf: 'eu_range', heartbeatMs: 60_000 });
    expect(report.rule('b')).toEqual({ mode: 'deadband', deadbandAbs: 2, deadbandPct: 0, percentOf: 'eu_range', heartbeatMs: 60_000 });
    expect(report.passThrough).toBe(false);
  });

  it.each([
    ['mode: deadband', ['config error: mode: mode deadband needs deadband_abs or deadband_pct above 0']],
    ['{ mode: change, tags: [{ match: x, mode: deadband }] }', ['config error: tags[0]: mode deadband needs deadband_abs or deadband_pct above 0']],
    ['{ mode: deadband, deadband_pct: 101 }', ['config error: deadband_pct: expected at most 100, got number 101']],
    ['{ heartbeat_s: -1 }', ['config error: heartbeat_s: expected at least 0, got number -1']],
    ['{ tags: [{ mode: change }] }', ['config error: tags[0].match: required key is missing']],
    ['{ mode: sometimes }', ['config error: mode: expected one of none, change, deadband; got "sometimes"']],
  ])('refuses %s', (yaml, expected) => {
    expect(problems(yaml)).toEqual(expected);
  });
});

describe('report-by-exception on a slowly changing signal', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2024, 4, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends under 10% of one hour of 1 s samples with a 1% EURange deadband and a 5-minute heartbeat, and follows the signal within the band', () => {
    // A tank temperature: 20-80 degC over a 2-hour cycle, noise +-0.05, EURange 0-100.
    const samples = slowSignal({ seconds: 3600, periodS: 7200, centre: 50, amplitude: 30, noise: 0.05 });
    const sent: number[] = [];
    const filter = new SourceFilter(new CompiledReport(reportSchema.parse({ mode: 'deadband', deadband_pct: 1, heartbeat_s: 300 })), (r) => sent.push(r.value as number));
    filter.describe([{ tag: 'tank/temp', euRange: { low: 0, high: 100 } }]);
    let worstError = 0;
    for (const s of samples) {
      vi.setSystemTime(s.sourceTimeUs / 1000);
      vi.advanceTimersByTime(0);
      if (isReported(filter.offer(s))) sent.push(s.value as number);
      worstError = Math.max(worstError, Math.abs((s.value as number) - (sent.at(-1) as number)));
    }
    const reduction = 1 - sent.length / samples.length;
    process.stdout.write(`report-by-exception: ${samples.length} samples, ${sent.length} sent, reduction ${(reduction * 100).toFixed(1)}%\n`);
    expect(reduction).toBeGreaterThan(0.9);
    // What the table holds is never further from the signal than the band (1% of 100).
    expect(worstError).toBeLessThanOrEqual(1);
  });
});
