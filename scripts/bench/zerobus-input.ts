import type { Reading } from '../../common/reading.ts';
import { encodeReading } from '../../common/records/encode.ts';
import { encodeRequest } from '../../common/zerobus/wire.ts';

/**
 * The benchmark's input, built once before anything is timed: MqttReading bronze records
 * of about 150 bytes, as the gateway encodes them, grouped into batches.
 */
export interface BenchInput {
  /** What a relay worker gets from a BullMQ job: IngestBatch.records, base64 protobuf. */
  base64Batches: string[][];
  /** The same batches as serialized EphemeralStreamRequests with offsets 0.., for the bare stream. */
  bareRequests: Buffer[];
  records: number;
  /** Sum of the protobuf record sizes (without base64 or request framing). */
  recordBytes: number;
}

const GATEWAY_ID = 'gw-a01';
const RUN_ID = '0193a5f2c4e1-9f3b2c7d';
const SOURCE = 'mqtt-a';
const LINES = ['line1', 'line2', 'line3', 'line4'];
const DEVICES = ['filler', 'capper', 'labeler', 'conveyor', 'palletizer'];
const SIGNALS = ['temp_c', 'press_bar', 'speed_rpm', 'current_a', 'vib_mm_s'];
const START_US = 1_763_856_000_000_000;
const SAMPLE_INTERVAL_US = 1_000;
const GATEWAY_DELAY_US = 850;

/** A realistic reading: a numeric tag of one of 100 devices, published over MQTT. */
export function benchReading(seq: number): Reading {
  const line = LINES[seq % LINES.length];
  const device = `${DEVICES[(seq >> 2) % DEVICES.length]}${(seq % 3) + 1}`;
  const signal = SIGNALS[seq % SIGNALS.length];
  const tag = `${line}/${device}/${signal}`;
  const t = START_US + seq * SAMPLE_INTERVAL_US;
  return {
    source: SOURCE,
    tag,
    value: Math.round((20 + Math.sin(seq / 1000) * 5 + (seq % 7) * 0.013) * 1000) / 1000,
    quality: 0,
    sourceTimeUs: t,
    gatewayTimeUs: t + GATEWAY_DELAY_US,
    gatewayId: GATEWAY_ID,
    runId: RUN_ID,
    seq,
    details: { protocol: 'mqtt', topic: `plant-a/${tag}`, qos: 1, retain: false },
  };
}

export function buildInput(records: number, batchSize: number): BenchInput {
  const base64Batches: string[][] = [];
  const bareRequests: Buffer[] = [];
  let recordBytes = 0;
  for (let start = 0, offset = 0; start < records; start += batchSize, offset++) {
    const texts: string[] = [];
    const bytes: Buffer[] = [];
    for (let seq = start + 1; seq <= Math.min(start + batchSize, records); seq++) {
      const text = encodeReading(benchReading(seq), 'proto').data;
      const record = Buffer.from(text, 'base64');
      texts.push(text);
      bytes.push(record);
      recordBytes += record.length;
    }
    base64Batches.push(texts);
    bareRequests.push(encodeRequest({ ingest_record_batch: { offset_id: offset, proto_encoded_batch: { records: bytes } } }));
  }
  return { base64Batches, bareRequests, records, recordBytes };
}
