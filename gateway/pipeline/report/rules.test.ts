import { describe, expect, it } from 'vitest';
import { QUALITY_BAD, QUALITY_GOOD, QUALITY_UNCERTAIN } from '../../../common/quality.ts';
import { band, decide, isReported, REPORT_EVERYTHING, type EuRange, type ReportRule, type Sample, type Verdict } from './rules.ts';

const rule = (r: Partial<ReportRule>): ReportRule => ({ ...REPORT_EVERYTHING, ...r });
const good = (value: Sample['value']): Sample => ({ value, quality: QUALITY_GOOD });
const RANGE: EuRange = { low: 0, high: 200 };

describe('decide', () => {
  it.each<[string, Partial<ReportRule>, Sample | undefined, Sample, EuRange | undefined, Verdict]>([
    ['none reports a repeat', { mode: 'none' }, good(1), good(1), undefined, 'always'],
    ['change reports the first reading', { mode: 'change' }, undefined, good(1), undefined, 'first'],
    ['change filters an equal value', { mode: 'change' }, good(1), good(1), undefined, 'unchanged'],
    ['change reports a different value', { mode: 'change' }, good(1), good(1.0001), undefined, 'changed'],
    ['change compares strings', { mode: 'change' }, good('RUN'), good('RUN'), undefined, 'unchanged'],
    ['change sees a type change', { mode: 'change' }, good(1), good('1'), undefined, 'changed'],
    ['change treats NaN as equal to NaN', { mode: 'change' }, good(Number.NaN), good(Number.NaN), undefined, 'unchanged'],
    ['change reports null after a value', { mode: 'change' }, good(1), good(null), undefined, 'changed'],
    ['a quality change passes change', { mode: 'change' }, good(1), { value: 1, quality: QUALITY_BAD }, undefined, 'quality'],
    ['a quality change passes deadband', { mode: 'deadband', deadbandAbs: 10 }, good(1), { value: 1, quality: QUALITY_UNCERTAIN }, undefined, 'quality'],
    ['abs band filters a change inside it', { mode: 'deadband', deadbandAbs: 0.5 }, good(10), good(10.5), undefined, 'within_deadband'],
    ['abs band reports a change past it', { mode: 'deadband', deadbandAbs: 0.5 }, good(10), good(10.51), undefined, 'changed'],
    ['abs band reports downward changes too', { mode: 'deadband', deadbandAbs: 0.5 }, good(10), good(9.4), undefined, 'changed'],
    ['pct of last value filters inside', { mode: 'deadband', deadbandPct: 1, percentOf: 'last_value' }, good(200), good(201.9), undefined, 'within_deadband'],
    ['pct of last value reports outside', { mode: 'deadband', deadbandPct: 1, percentOf: 'last_value' }, good(200), good(202.1), undefined, 'changed'],
    ['pct of last value near zero reports any change', { mode: 'deadband', deadbandPct: 1, percentOf: 'last_value' }, good(0), good(0.001), undefined, 'changed'],
    ['pct of EURange uses the range', { mode: 'deadband', deadbandPct: 1 }, good(10), good(11.9), RANGE, 'within_deadband'],
    ['pct of EURange reports past 1% of the range', { mode: 'deadband', deadbandPct: 1 }, good(10), good(12.1), RANGE, 'changed'],
    ['pct of EURange without a range uses the last value', { mode: 'deadband', deadbandPct: 1 }, good(10), good(10.2), undefined, 'changed'],
    ['abs and pct: the larger band wins (abs floor)', { mode: 'deadband', deadbandPct: 1, deadbandAbs: 0.5, percentOf: 'last_value' }, good(0), good(0.4), undefined, 'within_deadband'],
    ['abs and pct: the larger band wins (pct)', { mode: 'deadband', deadbandPct: 10, deadbandAbs: 0.5, percentOf: 'last_value' }, good(100), good(109), undefined, 'within_deadband'],
    ['deadband on a string falls back to change', { mode: 'deadband', deadbandAbs: 5 }, good('a'), good('b'), undefined, 'changed'],
    ['deadband on a boolean falls back to change', { mode: 'deadband', deadbandAbs: 5 }, good(true), good(true), undefined, 'unchanged'],
    ['deadband from infinity to a number reports', { mode: 'deadband', deadbandAbs: 5 }, good(Number.POSITIVE_INFINITY), good(1), undefined, 'changed'],
    ['deadband reports the first reading', { mode: 'deadband', deadbandAbs: 5 }, undefined, good(1), undefined, 'first'],
  ])('%s', (_name, r, last, next, range, verdict) => {
    expect(decide(rule(r), last, next, range)).toBe(verdict);
  });

  it('reports exactly the verdicts always, first, quality and changed', () => {
    expect((['always', 'first', 'quality', 'changed', 'unchanged', 'within_deadband'] as Verdict[]).map(isReported)).toEqual([true, true, true, true, false, false]);
  });
});

describe('band', () => {
  it.each<[Partial<ReportRule>, number, EuRange | undefined, number]>([
    [{ deadbandAbs: 2 }, 100, undefined, 2],
    [{ deadbandPct: 5, percentOf: 'last_value' }, -40, undefined, 2],
    [{ deadbandPct: 5 }, 1, { low: -50, high: 50 }, 5],
    [{ deadbandPct: 5, percentOf: 'last_value' }, 10, { low: -50, high: 50 }, 0.5],
    [{ deadbandPct: 5, deadbandAbs: 3 }, 10, undefined, 3],
  ])('%j around %d with range %j is %d', (r, last, range, expected) => {
    expect(band(rule({ mode: 'deadband', ...r }), last, range)).toBeCloseTo(expected, 12);
  });
});
