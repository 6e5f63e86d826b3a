import { EventEmitter } from 'node:events';
import type { Protocol, Reading, ReadingValue } from '../common/reading.ts';
import type { SourceStatus, TagInfo } from './sources/types.ts';

/** A running source as the rest of the gateway sees it. */
export interface SourceHandle {
  name: string;
  protocol: Protocol;
  table: string;
  status(): SourceStatus;
  /** Present when the driver supports writes; see Source.write. */
  write?(tag: string, value: ReadingValue): Promise<void>;
}

/**
 * Events inside one gateway process. The pipeline and the source manager emit; consumers
 * such as the aggregated OPC UA server listen, so neither side imports the other.
 */
export interface GatewayEventMap {
  /** Every stamped reading, before report-by-exception filters what goes to Zerobus. */
  reading: [reading: Reading];
  /** A source declared (or re-declared) its tags; the list replaces any earlier one. */
  tags: [source: string, tags: TagInfo[]];
  /** A source was started (at start-up or by a config reload). */
  sourceAdded: [handle: SourceHandle];
  /** A source was stopped and removed (by a config reload or at shutdown). */
  sourceRemoved: [name: string];
}

export class GatewayEvents extends EventEmitter<GatewayEventMap> {
  constructor() {
    super();
    // One listener per consumer; a consumer that throws must not break the pipeline.
    this.setMaxListeners(50);
  }
}
