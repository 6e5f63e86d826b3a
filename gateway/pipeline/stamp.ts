import { randomBytes } from 'node:crypto';
import type { Reading, SourceReading } from '../../common/reading.ts';

const RUN_ID_RANDOM_BYTES = 10;
const TIMESTAMP_HEX_DIGITS = 12;

/**
 * A run id that sorts by start time: 12 hex digits of epoch milliseconds, '-', then 20 random
 * hex digits. It has no ':' so it can be part of a BullMQ job id.
 */
export function newRunId(nowMs: number = Date.now()): string {
  const time = Math.floor(nowMs).toString(16).padStart(TIMESTAMP_HEX_DIGITS, '0');
  return `${time}-${randomBytes(RUN_ID_RANDOM_BYTES).toString('hex')}`;
}

/**
 * Gives each reading the gateway's identity and a per-source sequence number that starts at 1
 * and only increases for the life of the run. A gap in seq within a run means a lost reading.
 */
export class Stamper {
  readonly gatewayId: string;
  readonly runId: string;
  readonly #seq = new Map<string, number>();

  constructor(gatewayId: string, runId: string) {
    this.gatewayId = gatewayId;
    this.runId = runId;
  }

  stamp(reading: SourceReading): Reading {
    const seq = (this.#seq.get(reading.source) ?? 0) + 1;
    this.#seq.set(reading.source, seq);
    return { ...reading, gatewayId: this.gatewayId, runId: this.runId, seq };
  }

  /**
   * A reading that is not written to Redis (report-by-exception kept it back): it carries the
   * source's last written seq and takes no number of its own, so the seqs in the tables stay
   * without gaps and a gap still means a lost reading.
   */
  stampUnwritten(reading: SourceReading): Reading {
    return { ...reading, gatewayId: this.gatewayId, runId: this.runId, seq: this.lastSeq(reading.source) };
  }

  /** The last sequence number given to a source, 0 before its first reading. */
  lastSeq(source: string): number {
    return this.#seq.get(source) ?? 0;
  }
}
