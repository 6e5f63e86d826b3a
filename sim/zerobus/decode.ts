import { status } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { typeFromDescriptor } from '../../common/records/schemas.ts';
import { RECORD_TYPE, type CreateStream, type StreamRequest } from '../../common/zerobus/wire.ts';

/**
 * Rows as the table stores them: proto field (column) names, int64 as numbers, unset fields
 * left out. Enums as their names and bytes as base64 keep every row plain JSON.
 */
const TO_ROW: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: String, defaults: false };

/** A request the emulator refuses: the gRPC status it ends the call with. */
export class Refusal extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

/** How a stream's records are read: decoded with the descriptor's type, or parsed as JSON objects. */
export type RecordFormat = { kind: 'proto'; type: protobuf.Type } | { kind: 'json' };

/** The record format a create_stream asks for. Pure; throws a Refusal (INVALID_ARGUMENT). */
export function recordFormat(create: CreateStream): RecordFormat {
  // An unset record_type is PROTO, as the official clients' default.
  if (create.record_type === RECORD_TYPE.PROTO || create.record_type === undefined) return { kind: 'proto', type: descriptorType(create.descriptor_proto) };
  if (create.record_type === RECORD_TYPE.JSON) return { kind: 'json' };
  throw new Refusal(status.INVALID_ARGUMENT, `record_type ${create.record_type} is not supported by the emulator (PROTO=1 or JSON=2)`);
}

function descriptorType(bytes: Uint8Array | undefined): protobuf.Type {
  if (!bytes || bytes.length === 0) throw new Refusal(status.INVALID_ARGUMENT, 'create_stream without descriptor_proto for PROTO records');
  try {
    return typeFromDescriptor(bytes);
  } catch (err) {
    throw new Refusal(status.INVALID_ARGUMENT, `descriptor_proto is not a valid DescriptorProto: ${(err as Error).message}`);
  }
}

/**
 * Checks an ingest request's offset and decodes every record to one JSON line (a row).
 * Pure; throws a Refusal (INVALID_ARGUMENT) naming the offset and the record index.
 */
export function decodeIngest(request: StreamRequest, expectedOffset: number, format: RecordFormat): { offset: number; lines: string[] } {
  const batch = request.ingest_record_batch;
  const single = request.ingest_record;
  if (!batch && !single) throw new Refusal(status.INVALID_ARGUMENT, 'expected ingest_record or ingest_record_batch after create_stream');
  const offset = batch ? batch.offset_id : single?.offset_id;
  if (offset !== expectedOffset) throw new Refusal(status.INVALID_ARGUMENT, `offset_id: expected ${expectedOffset}, got ${String(offset)}`);
  if (format.kind === 'json') {
    const records = batch ? (batch.json_batch?.records ?? []) : single?.json_record !== undefined ? [single.json_record] : [];
    if (records.length === 0) throw new Refusal(status.INVALID_ARGUMENT, `offset ${offset}: no JSON records in a JSON stream`);
    return { offset, lines: records.map((text, index) => jsonRow(text, offset, index)) };
  }
  const records = batch ? (batch.proto_encoded_batch?.records ?? []) : single?.proto_encoded_record ? [single.proto_encoded_record] : [];
  if (records.length === 0) throw new Refusal(status.INVALID_ARGUMENT, `offset ${offset}: no protobuf records in a PROTO stream`);
  return { offset, lines: records.map((bytes, index) => protoRow(format.type, bytes, offset, index)) };
}

function protoRow(type: protobuf.Type, bytes: Uint8Array, offset: number, index: number): string {
  try {
    return JSON.stringify(type.toObject(type.decode(bytes), TO_ROW));
  } catch (err) {
    throw new Refusal(status.INVALID_ARGUMENT, `offset ${offset} record ${index}: cannot decode as ${type.name}: ${(err as Error).message}`);
  }
}

function jsonRow(text: string, offset: number, index: number): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Refusal(status.INVALID_ARGUMENT, `offset ${offset} record ${index}: not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Refusal(status.INVALID_ARGUMENT, `offset ${offset} record ${index}: expected a JSON object`);
  }
  return JSON.stringify(value);
}
