import { join } from 'node:path';
import protobuf from 'protobufjs';
import { protoDir } from '../records/proto-dir.ts';

/**
 * The Zerobus wire protocol (proto/zerobus/zerobus.proto) as plain TypeScript objects, with
 * the grpc-js service definition both the relay's client and the emulator use. int64 fields
 * are JS numbers: offsets stay far below 2^53.
 */
export const ZEROBUS_SERVICE = 'databricks.zerobus.Zerobus';
export const EPHEMERAL_STREAM_PATH = `/${ZEROBUS_SERVICE}/EphemeralStream`;

export const HEADER_TABLE = 'x-databricks-zerobus-table-name';
export const HEADER_SDK = 'x-zerobus-sdk';

export const RECORD_TYPE = { RECORD_TYPE_UNSPECIFIED: 0, PROTO: 1, JSON: 2, AVRO: 4 } as const;

export interface CreateStream {
  table_name: string;
  descriptor_proto?: Uint8Array;
  record_type: number;
  avro_schema_json?: string;
}

export interface IngestRecordBatch {
  offset_id: number;
  proto_encoded_batch?: { records: Uint8Array[] };
  json_batch?: { records: string[] };
  avro_batch?: { records: Uint8Array[] };
}

export interface IngestRecord {
  offset_id: number;
  proto_encoded_record?: Uint8Array;
  json_record?: string;
  avro_encoded_record?: Uint8Array;
}

export interface StreamRequest {
  create_stream?: CreateStream;
  ingest_record?: IngestRecord;
  ingest_record_batch?: IngestRecordBatch;
}

export interface StreamResponse {
  create_stream_response?: { stream_id: string };
  ingest_record_response?: { durability_ack_up_to_offset: number };
  /** duration in milliseconds, converted from google.protobuf.Duration. */
  close_stream_signal?: { duration_ms: number };
}

let root: protobuf.Root | undefined;

function types(): { request: protobuf.Type; response: protobuf.Type } {
  root ??= new protobuf.Root().loadSync(join(protoDir(), 'zerobus', 'zerobus.proto'), { keepCase: true });
  return {
    request: root.lookupType('databricks.zerobus.EphemeralStreamRequest'),
    response: root.lookupType('databricks.zerobus.EphemeralStreamResponse'),
  };
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, bytes: Buffer as unknown as typeof String, defaults: false, oneofs: false };

export function encodeRequest(message: StreamRequest): Buffer {
  const { request } = types();
  const bytes = request.encode(request.fromObject(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeRequest(buffer: Buffer): StreamRequest {
  const { request } = types();
  return request.toObject(request.decode(buffer), TO_OBJECT) as StreamRequest;
}

export function encodeResponse(message: StreamResponse): Buffer {
  const { response } = types();
  const wire: Record<string, unknown> = { ...message };
  if (message.close_stream_signal) {
    const ms = message.close_stream_signal.duration_ms;
    wire.close_stream_signal = { duration: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 } };
  }
  const bytes = response.encode(response.fromObject(wire)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeResponse(buffer: Buffer): StreamResponse {
  const { response } = types();
  const raw = response.toObject(response.decode(buffer), TO_OBJECT) as Record<string, any>;
  const out: StreamResponse = {};
  if (raw.create_stream_response) out.create_stream_response = { stream_id: String(raw.create_stream_response.stream_id ?? '') };
  if (raw.ingest_record_response) {
    out.ingest_record_response = { durability_ack_up_to_offset: Number(raw.ingest_record_response.durability_ack_up_to_offset ?? -1) };
  }
  if (raw.close_stream_signal) {
    const d = raw.close_stream_signal.duration ?? {};
    out.close_stream_signal = { duration_ms: Number(d.seconds ?? 0) * 1000 + Math.floor(Number(d.nanos ?? 0) / 1_000_000) };
  }
  return out;
}

/** grpc-js service definition for Zerobus, serialized with protobufjs. */
export const zerobusServiceDefinition = {
  EphemeralStream: {
    path: EPHEMERAL_STREAM_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeRequest,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: decodeResponse,
    originalName: 'EphemeralStream',
  },
} as const;
