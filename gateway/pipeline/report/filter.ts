import type { SourceReading } from '../../../common/reading.ts';
import type { TagInfo } from '../../sources/types.ts';
import type { CompiledReport } from './config.ts';
import { decide, isReported, type EuRange, type ReportRule, type Sample, type Verdict } from './rules.ts';

/** Time and one timer; the real clock unless a caller (a benchmark replaying a day) brings its own. */
export interface FilterClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const REAL_CLOCK: FilterClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const US_PER_MS = 1000;

interface TagState {
  rule: ReportRule;
  /** The last sample that went to Redis; undefined before the first. */
  last: Sample | undefined;
  /** The latest reading seen, reported or not; a heartbeat re-sends it. */
  latest: SourceReading;
  reportedAtMs: number;
}

/**
 * Report-by-exception for one source: per tag, decides whether a reading goes on to Redis and
 * sends heartbeats. Tags whose rule can never filter or beat keep no state.
 *
 * A heartbeat is the tag's latest reading, re-sent when nothing was reported for the tag for
 * heartbeat_s. It keeps that reading's value, quality and source time (event_time: when the
 * value was measured) and gets the heartbeat's own gateway time (ingest_time) and, once
 * stamped, its own seq. It counts as reported: the deadband is measured from it.
 */
export class SourceFilter {
  readonly #report: CompiledReport;
  readonly #onHeartbeat: (reading: SourceReading) => void;
  readonly #tags = new Map<string, TagState | null>();
  /** Per heartbeat period, the tags that have it, oldest report first. */
  readonly #beats = new Map<number, Map<string, TagState>>();
  #ranges = new Map<string, EuRange>();
  readonly #clock: FilterClock;
  #timer: unknown;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #beating = false;
  #stopped = false;

  constructor(report: CompiledReport, onHeartbeat: (reading: SourceReading) => void, clock: FilterClock = REAL_CLOCK) {
    this.#report = report;
    this.#onHeartbeat = onHeartbeat;
    this.#clock = clock;
  }

  /** Takes EURanges from the source's declared tags; the set replaces the earlier one. */
  describe(tags: TagInfo[]): void {
    this.#ranges = new Map(tags.filter((t) => t.euRange !== undefined).map((t) => [t.tag, t.euRange as EuRange]));
  }

  /** Whether the reading goes on to Redis; records it as the tag's latest either way. */
  offer(reading: SourceReading): Verdict {
    let state = this.#tags.get(reading.tag);
    if (state === undefined) {
      const rule = this.#report.rule(reading.tag);
      state = rule.mode === 'none' && rule.heartbeatMs === 0 ? null : { rule, last: undefined, latest: reading, reportedAtMs: 0 };
      this.#tags.set(reading.tag, state);
    }
    if (state === null) return 'always';
    state.latest = reading;
    const verdict = decide(state.rule, state.last, reading, this.#ranges.get(reading.tag));
    if (isReported(verdict)) this.#reported(reading.tag, state, this.#clock.now());
    return verdict;
  }

  /** Stops heartbeats. Safe twice. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** Tags with state (filtered or with a heartbeat). */
  get trackedTags(): number {
    let n = 0;
    for (const s of this.#tags.values()) if (s) n += 1;
    return n;
  }

  #reported(tag: string, state: TagState, atMs: number): void {
    state.last = { value: state.latest.value, quality: state.latest.quality };
    state.reportedAtMs = atMs;
    const period = state.rule.heartbeatMs;
    if (period === 0) return;
    let beats = this.#beats.get(period);
    if (!beats) {
      beats = new Map();
      this.#beats.set(period, beats);
    }
    // Re-inserting moves the tag to the end, so each map stays ordered by report time.
    beats.delete(tag);
    beats.set(tag, state);
    this.#arm();
  }

  /** Sets the timer for the earliest due beat, unless one is set for that time or earlier. */
  #arm(): void {
    if (this.#stopped || this.#beating) return;
    let due = Number.POSITIVE_INFINITY;
    for (const [period, beats] of this.#beats) {
      const first = beats.values().next();
      if (!first.done) due = Math.min(due, first.value.reportedAtMs + period);
    }
    if (due === Number.POSITIVE_INFINITY || (this.#timer !== undefined && this.#timerDueMs <= due)) return;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timerDueMs = due;
    this.#timer = this.#clock.setTimer(() => this.#beat(), Math.max(0, due - this.#clock.now()));
  }

  #beat(): void {
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
    if (this.#stopped) return;
    const now = this.#clock.now();
    this.#beating = true;
    try {
      for (const [period, beats] of this.#beats) {
        // A tag re-inserted by #reported is visited again at the end, and stops the loop.
        for (const [tag, state] of beats) {
          if (state.reportedAtMs + period > now) break;
          const reading: SourceReading = { ...state.latest, gatewayTimeUs: now * US_PER_MS };
          state.latest = reading;
          this.#reported(tag, state, now);
          this.#onHeartbeat(reading);
        }
      }
    } finally {
      this.#beating = false;
    }
    this.#arm();
  }
}
