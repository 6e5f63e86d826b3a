import { join } from 'node:path';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';
import type { Protocol } from '../reading.ts';
import { protoDir } from './proto-dir.ts';

/** The bronze message for each protocol's default table. */
export const BRONZE_MESSAGE: Record<Protocol, string> = {
  mqtt: 'iot.bronze.MqttReading',
  opcua: 'iot.bronze.OpcuaReading',
  modbus: 'iot.bronze.ModbusReading',
};

const BRONZE_FILES = ['bronze/mqtt.proto', 'bronze/opcua.proto', 'bronze/modbus.proto'];

let bronzeRoot: protobuf.Root | undefined;

/** All bronze record messages, loaded once from proto/ with proto field names kept as columns. */
export function loadBronzeRoot(): protobuf.Root {
  if (!bronzeRoot) {
    const dir = protoDir();
    bronzeRoot = new protobuf.Root().loadSync(
      BRONZE_FILES.map((f) => join(dir, f)),
      { keepCase: true },
    );
  }
  return bronzeRoot;
}

export function recordType(messageType: string): protobuf.Type {
  const type = loadBronzeRoot().lookup(messageType);
  if (!(type instanceof protobuf.Type)) throw new Error(`unknown record message ${messageType}`);
  return type;
}

const descriptorCache = new Map<string, Uint8Array>();

/**
 * The serialized google.protobuf.DescriptorProto sent in create_stream, derived at run time
 * from the same .proto the records are encoded with, so the two cannot drift.
 */
export function descriptorBytes(messageType: string): Uint8Array {
  let bytes = descriptorCache.get(messageType);
  if (!bytes) {
    const proto = recordType(messageType).toDescriptor('proto2');
    bytes = descriptor.DescriptorProto.encode(proto).finish();
    descriptorCache.set(messageType, bytes);
  }
  return bytes;
}

/** Rebuilds a message type from DescriptorProto bytes, as the Zerobus service does. */
export function typeFromDescriptor(bytes: Uint8Array): protobuf.Type {
  return protobuf.Type.fromDescriptor(bytes, { edition: 'proto2', keepCase: true });
}
