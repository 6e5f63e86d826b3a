/**
 * A device's tags as the poller uses them, what it declares to the gateway, and the readings a
 * response (or a failure) gives. Pure.
 */
import { QUALITY_GOOD } from '../../../common/quality.ts';
import type { SourceReading } from '../../../common/reading.ts';
import type { TagDataType, TagInfo } from '../types.ts';
import type { ModbusDeviceConfig, ModbusTagConfig } from './config.ts';
import { decodeRegisters, registerCount, type ModbusDataType } from './decode.ts';
import { QUALITY_BAD_OUT_OF_RANGE } from './failure.ts';
import { isBitType, planReads, type PlanLimits, type ReadRequest, type Span } from './plan.ts';
import { toReadingValue } from './value.ts';

export interface DeviceTag extends Span {
  /** The reading's tag: <device>/<tag name>. */
  path: string;
  config: ModbusTagConfig;
}

export interface CompiledDevice {
  tags: DeviceTag[];
  requests: ReadRequest<DeviceTag>[];
}

const DATA_TYPES: Record<ModbusDataType, TagDataType> = {
  bool: 'Boolean',
  int16: 'Int16',
  uint16: 'UInt16',
  int32: 'Int32',
  uint32: 'UInt32',
  int64: 'Int64',
  uint64: 'UInt64',
  float32: 'Float',
  float64: 'Double',
  string: 'String',
};

/** A device's tags with their spans, and the requests that read them. */
export function compileDevice(device: ModbusDeviceConfig, limits: PlanLimits): CompiledDevice {
  const tags = device.tags.map((config) => ({
    path: `${device.name}/${config.name}`,
    config,
    registerType: config.register_type,
    address: config.address,
    width: isBitType(config.register_type) ? 1 : registerCount(config.type, config.length),
  }));
  return { tags, requests: planReads(tags, limits) };
}

/** The OPC UA type a tag's readings have: Double once scale or offset turns a number into a measurement. */
export function tagDataType(config: ModbusTagConfig): TagDataType {
  const scaled = config.scale !== 1 || config.offset !== 0;
  return scaled ? 'Double' : DATA_TYPES[config.type];
}

export function tagInfo(tag: DeviceTag): TagInfo {
  const c = tag.config;
  return {
    tag: tag.path,
    dataType: tagDataType(c),
    ...(c.unit !== undefined ? { unit: c.unit } : {}),
    ...(c.eu_range !== undefined ? { euRange: { low: c.eu_range.low, high: c.eu_range.high } } : {}),
    ...(c.description !== undefined ? { description: c.description } : {}),
    writable: c.writable,
  };
}

export interface ReadingContext {
  source: string;
  unitId: number;
  timeUs: number;
}

/**
 * One reading per tag the request covers. `data` holds the registers, or the bits as 0/1,
 * from the request's first address on.
 */
export function readingsFromResponse(request: ReadRequest<DeviceTag>, data: readonly number[], ctx: ReadingContext): SourceReading[] {
  return request.tags.map((tag) => {
    const start = tag.address - request.address;
    const raw = data.slice(start, start + tag.width);
    const c = tag.config;
    if (isBitType(tag.registerType)) return reading(tag, ctx, raw[0] === 1, QUALITY_GOOD, raw);
    const converted = toReadingValue(decodeRegisters(raw, c.type, c.order, c.bit), c);
    return 'value' in converted ? reading(tag, ctx, converted.value, QUALITY_GOOD, raw) : reading(tag, ctx, null, QUALITY_BAD_OUT_OF_RANGE, raw);
  });
}

/** Readings without a value for tags a failure left unread. */
export function failedReadings(tags: readonly DeviceTag[], quality: number, ctx: ReadingContext): SourceReading[] {
  return tags.map((tag) => reading(tag, ctx, null, quality, []));
}

function reading(tag: DeviceTag, ctx: ReadingContext, value: SourceReading['value'], quality: number, raw: number[]): SourceReading {
  return {
    source: ctx.source,
    tag: tag.path,
    value,
    quality,
    sourceTimeUs: ctx.timeUs,
    gatewayTimeUs: ctx.timeUs,
    details: {
      protocol: 'modbus',
      unitId: ctx.unitId,
      registerType: tag.registerType,
      address: tag.address,
      raw,
      ...(tag.config.unit !== undefined ? { unit: tag.config.unit } : {}),
    },
  };
}
