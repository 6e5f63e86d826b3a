import { describe, expect, it } from 'vitest';
import { deviceSchema } from './config.ts';
import { QUALITY_BAD_OUT_OF_RANGE } from './failure.ts';
import { compileDevice, readingsFromResponse, tagInfo } from './tags.ts';

const device = deviceSchema.parse({
  name: 'drive',
  unit_id: 4,
  tags: [
    { name: 'speed', register_type: 'holding', address: 0, type: 'int16', scale: 0.1, unit: 'Hz', eu_range: { low: 0, high: 60 }, writable: true },
    { name: 'flow', register_type: 'holding', address: 1, type: 'float32', description: 'Outlet flow' },
    { name: 'count', register_type: 'holding', address: 3, type: 'uint64' },
    { name: 'run', register_type: 'coil', address: 2 },
    { name: 'stop', register_type: 'coil', address: 5 },
  ],
});
const compiled = compileDevice(device, { maxRegisters: 125, maxBits: 2000, maxGap: 0 });

describe('device tags', () => {
  it('declares each tag with its OPC UA type, unit, range and writability', () => {
    expect(compiled.tags.map(tagInfo)).toEqual([
      { tag: 'drive/speed', dataType: 'Double', unit: 'Hz', euRange: { low: 0, high: 60 }, writable: true },
      { tag: 'drive/flow', dataType: 'Float', description: 'Outlet flow', writable: false },
      { tag: 'drive/count', dataType: 'UInt64', writable: false },
      { tag: 'drive/run', dataType: 'Boolean', writable: false },
      { tag: 'drive/stop', dataType: 'Boolean', writable: false },
    ]);
  });

  it('plans one request per contiguous range and register type', () => {
    expect(compiled.requests.map((r) => [r.registerType, r.address, r.count])).toEqual([
      ['coil', 2, 1],
      ['coil', 5, 1],
      ['holding', 0, 7],
    ]);
  });

  it('turns an answer into readings, each with the raw registers it came from', () => {
    const holding = compiled.requests[2]!;
    const readings = readingsFromResponse(holding, [215, 0x7fc0, 0x0000, 0, 0, 0, 42], { source: 's', unitId: 4, timeUs: 1_000 });
    expect(readings.map((r) => [r.tag, r.value, r.quality, r.details])).toEqual([
      ['drive/speed', 21.5, 0, { protocol: 'modbus', unitId: 4, registerType: 'holding', address: 0, raw: [215], unit: 'Hz' }],
      ['drive/flow', null, QUALITY_BAD_OUT_OF_RANGE, { protocol: 'modbus', unitId: 4, registerType: 'holding', address: 1, raw: [0x7fc0, 0] }],
      ['drive/count', 42, 0, { protocol: 'modbus', unitId: 4, registerType: 'holding', address: 3, raw: [0, 0, 0, 42] }],
    ]);
    expect(readings[0]).toMatchObject({ source: 's', sourceTimeUs: 1_000, gatewayTimeUs: 1_000 });
  });
});
