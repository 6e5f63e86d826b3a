import type { ReadingValue } from '../../../common/reading.ts';

/**
 * Report-by-exception: which readings of a tag go on to Redis. The aggregated OPC UA server
 * sees every reading whatever the rule; only what leaves the plant is filtered.
 *
 * - none: every reading is reported.
 * - change: a reading is reported when its value differs from the last reported one.
 * - deadband: a numeric reading is reported when it differs from the last reported value by
 *   more than the band; a non-numeric one falls back to change.
 * In every mode the first reading of a tag, and any reading whose quality differs from the
 * last reported quality, is reported.
 */
export type ReportMode = 'none' | 'change' | 'deadband';

/** What the percent band is a percent of. */
export type PercentOf = 'eu_range' | 'last_value';

export interface ReportRule {
  mode: ReportMode;
  /** Absolute band in engineering units; 0 for none. */
  deadbandAbs: number;
  /** Percent band (0-100); 0 for none. */
  deadbandPct: number;
  /**
   * eu_range: percent of the tag's EURange (high - low) when the source declared one, else of
   * the last reported value. last_value: always percent of |last reported value|.
   */
  percentOf: PercentOf;
  /** Re-send the latest value when nothing was reported for this long; 0 for never. */
  heartbeatMs: number;
}

export const REPORT_EVERYTHING: ReportRule = { mode: 'none', deadbandAbs: 0, deadbandPct: 0, percentOf: 'eu_range', heartbeatMs: 0 };

/** Why a reading was reported or filtered; the first four report. */
export type Verdict = 'always' | 'first' | 'quality' | 'changed' | 'unchanged' | 'within_deadband';

export interface Sample {
  value: ReadingValue;
  quality: number;
}

export interface EuRange {
  low: number;
  high: number;
}

const PERCENT = 100;

/** Whether a reading is reported, given the last reported sample of its tag. Pure. */
export function decide(rule: ReportRule, last: Sample | undefined, next: Sample, euRange?: EuRange): Verdict {
  if (rule.mode === 'none') return 'always';
  if (last === undefined) return 'first';
  if (last.quality !== next.quality) return 'quality';
  if (rule.mode === 'change' || !isFiniteNumber(last.value) || !isFiniteNumber(next.value)) {
    return Object.is(last.value, next.value) ? 'unchanged' : 'changed';
  }
  const delta = Math.abs(next.value - last.value);
  return delta > band(rule, last.value, euRange) ? 'changed' : 'within_deadband';
}

export function isReported(verdict: Verdict): boolean {
  return verdict === 'always' || verdict === 'first' || verdict === 'quality' || verdict === 'changed';
}

/**
 * The deadband around the last reported value. With both an absolute and a percent band set,
 * a change must exceed both: the absolute band is a floor for a percent band near zero.
 */
export function band(rule: ReportRule, lastValue: number, euRange?: EuRange): number {
  const base = rule.percentOf === 'eu_range' && euRange ? Math.abs(euRange.high - euRange.low) : Math.abs(lastValue);
  return Math.max(rule.deadbandAbs, (rule.deadbandPct / PERCENT) * base);
}

function isFiniteNumber(value: ReadingValue): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
