import { afterEach, describe, expect, it } from 'vitest';
import { QUALITY_BAD_NO_COMMUNICATION } from '../../../common/quality.ts';
import type { SourceReading } from '../../../common/reading.ts';
import { encodeSimValue, SIM_EXCEPTION, startModbusSim, type ModbusSim, type SimDataType, type SimOrder } from '../../../sim/devices/modbus-sim.ts';
import { until } from '../../../test/helpers/wait.ts';
import { recordingContext } from '../../test-support/context.ts';
import { SourceWriteError } from '../types.ts';
import { modbusConfigSchema } from './config.ts';
import { ModbusSource } from './driver.ts';
import { QUALITY_BAD_CONFIGURATION_ERROR, QUALITY_BAD_DEVICE_FAILURE } from './failure.ts';

const ORDERS: SimOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];
/** Polled once at start, then not again during a test. */
const ONCE_MS = 600_000;

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function sim(options: Parameters<typeof startModbusSim>[0] = {}): Promise<ModbusSim> {
  const s = await startModbusSim(options);
  running.push(s);
  return s;
}

function source(port: number, devices: unknown[], extra: Record<string, unknown> = {}) {
  const src = new ModbusSource('plc', modbusConfigSchema.parse({ host: '127.0.0.1', port, timeout_ms: 300, reconnect_initial_ms: 50, reconnect_max_ms: 200, devices, ...extra }));
  const ctx = recordingContext();
  running.push(src);
  return { src, ctx, start: () => src.start(ctx) };
}

const latest = (readings: SourceReading[], tag: string) => readings.filter((r) => r.tag === tag).at(-1);

describe('ModbusSource against a Modbus TCP server', () => {
  it('decodes every data type in every word and byte order', async () => {
    const s = await sim();
    const unit = s.unit(1);
    const values: [SimDataType, number | bigint, number | string][] = [
      ['int16', -12345, -12345],
      ['uint16', 54321, 54321],
      ['int32', -123456789, -123456789],
      ['uint32', 3_000_000_123, 3_000_000_123],
      ['int64', 123_456_789_012n, 123_456_789_012],
      ['int64', -1_234_567_890_123_456_789n, '-1234567890123456789'],
      ['uint64', 18_000_000_000_000_000_123n, '18000000000000000123'],
      ['float32', -123.456, -123.456],
      ['float64', -9.87654321, -9.87654321],
    ];
    const tags: Record<string, unknown>[] = [];
    const expected: Record<string, number | string | boolean> = {};
    let address = 0;
    values.forEach(([type, value, reading], i) => {
      for (const order of ORDERS) {
        const name = `${type}_${i}_${order}`;
        unit.setValue('holding', address, type, order, value);
        tags.push({ name, register_type: 'holding', address, type, order });
        expected[`dev/${name}`] = reading;
        address += encodeSimValue(type, order, value).length;
      }
    });
    ORDERS.forEach((order, k) => {
      unit.setString('input', 100 + k * 5, 5, `Line ${order}`, order);
      tags.push({ name: `string_${order}`, register_type: 'input', address: 100 + k * 5, type: 'string', length: 5, order });
      expected[`dev/string_${order}`] = `Line ${order}`;
    });
    unit.setBits('coil', 7, [true]);
    unit.setBits('discrete_input', 9, [true]);
    unit.setRegisters('input', 300, [0b1000_0000_0000_0100]);
    tags.push(
      { name: 'coil', register_type: 'coil', address: 7 },
      { name: 'discrete', register_type: 'discrete_input', address: 9 },
      { name: 'bit2', register_type: 'input', address: 300, type: 'bool', bit: 2 },
      { name: 'bit3', register_type: 'input', address: 300, type: 'bool', bit: 3 },
      { name: 'bit15', register_type: 'input', address: 300, type: 'bool', bit: 15 },
    );
    Object.assign(expected, { 'dev/coil': true, 'dev/discrete': true, 'dev/bit2': true, 'dev/bit3': false, 'dev/bit15': true });

    const { ctx, start } = source(s.port, [{ name: 'dev', poll_interval_ms: ONCE_MS, tags }]);
    await start();
    await until('one reading per tag', () => ctx.readings.length === tags.length);
    expect(Object.fromEntries(ctx.readings.map((r) => [r.tag, r.value]))).toEqual(expected);
    expect(ctx.readings.every((r) => r.quality === 0)).toBe(true);
    expect(ctx.tags.find((t) => t.tag === 'dev/int64_4_ABCD')).toEqual({ tag: 'dev/int64_4_ABCD', dataType: 'Int64', writable: false });
  });

  it('reads 50 tags over 3 ranges with the planned number of requests, counted by the server', async () => {
    const s = await sim();
    const tags = [
      ...Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, register_type: 'holding', address: i * 2, type: 'float32' })),
      ...Array.from({ length: 20 }, (_, i) => ({ name: `u${i}`, register_type: 'holding', address: 1000 + i })),
      ...Array.from({ length: 10 }, (_, i) => ({ name: `q${i}`, register_type: 'input', address: 500 + i * 4, type: 'uint64' })),
    ];
    // 30 registers per read: holding 0-29, 30-39 and 1000-1019; input 500-527 and 528-539.
    const { src, ctx, start } = source(s.port, [{ name: 'dev', poll_interval_ms: ONCE_MS, tags }], { max_registers_per_read: 30 });
    await start();
    await until('50 readings', () => ctx.readings.length === 50);
    expect(s.unit(1).requests).toEqual({ coil: 0, discrete_input: 0, holding: 3, input: 2, write: 0 });
    expect(src.status().devices[0]).toMatchObject({ polls: 1, requests: 5 });
  });

  it('gives Bad readings with the status of each exception, counts them, and keeps the other tags Good', async () => {
    const s = await sim();
    s.unit(1).setException('holding', 100, 1, SIM_EXCEPTION.illegalDataAddress);
    s.unit(1).setException('input', 0, 1, SIM_EXCEPTION.deviceFailure);
    s.unit(1).setRegisters('holding', 0, [42]);
    const { src, ctx, start } = source(s.port, [
      {
        name: 'dev',
        poll_interval_ms: ONCE_MS,
        tags: [
          { name: 'good', register_type: 'holding', address: 0 },
          { name: 'missing', register_type: 'holding', address: 100 },
          { name: 'broken', register_type: 'input', address: 0 },
        ],
      },
    ]);
    await start();
    await until('three readings', () => ctx.readings.length === 3);
    expect(Object.fromEntries(ctx.readings.map((r) => [r.tag, [r.value, r.quality]]))).toEqual({
      'dev/good': [42, 0],
      'dev/missing': [null, QUALITY_BAD_CONFIGURATION_ERROR],
      'dev/broken': [null, QUALITY_BAD_DEVICE_FAILURE],
    });
    expect(src.status().devices[0]).toMatchObject({ state: 'polling', exceptions: 2, badReadings: 2, timeouts: 0 });
  });

  it('writes holding registers and coils through the poll connection, and refuses what it cannot write', async () => {
    const s = await sim({ units: [2] });
    const unit = s.unit(2);
    unit.setException('holding', 50, 1, SIM_EXCEPTION.illegalDataValue);
    const { src, ctx, start } = source(s.port, [
      {
        name: 'dev',
        unit_id: 2,
        poll_interval_ms: 50,
        tags: [
          { name: 'setpoint', register_type: 'holding', address: 10, type: 'int32', order: 'CDAB', scale: 0.01, writable: true },
          { name: 'mode', register_type: 'holding', address: 12, type: 'uint16', writable: true },
          { name: 'label', register_type: 'holding', address: 20, type: 'string', length: 4, writable: true },
          { name: 'pump', register_type: 'coil', address: 3, writable: true },
          { name: 'readonly', register_type: 'holding', address: 13 },
          { name: 'refused', register_type: 'holding', address: 50, writable: true },
        ],
      },
    ], { max_read_gap: 10 });
    await start();
    await until('connected', () => src.status().state === 'connected');

    await src.write('dev/setpoint', -1234.56);
    await src.write('dev/mode', 7);
    await src.write('dev/label', 'AB-1');
    await src.write('dev/pump', true);
    expect(Array.from(unit.holding.subarray(10, 13))).toEqual([...encodeSimValue('int32', 'CDAB', -123456), 7]);
    expect(unit.coils[3]).toBe(1);
    await until('the written values read back', () =>
      latest(ctx.readings, 'dev/setpoint')?.value === -1234.56 && latest(ctx.readings, 'dev/label')?.value === 'AB-1' && latest(ctx.readings, 'dev/pump')?.value === true,
    );

    const refusal = (tag: string, value: unknown) => src.write(tag, value as never).then(() => undefined, (err: SourceWriteError) => [err.reason, err.message]);
    expect(await refusal('dev/readonly', 1)).toEqual(['not_writable', 'tag dev/readonly is not writable (set writable: true in its config)']);
    expect(await refusal('dev/nope', 1)).toEqual(['unknown_tag', 'unknown tag dev/nope']);
    expect(await refusal('dev/mode', 70000)).toEqual(['bad_value', 'tag dev/mode: number 70000 is outside the uint16 range 0..65535']);
    expect(await refusal('dev/pump', 'on')).toEqual(['bad_value', 'tag dev/pump: expected true, false, 1 or 0 for a coil, got string "on"']);
    expect(await refusal('dev/refused', 1)).toEqual(['device', expect.stringMatching(/^tag dev\/refused: the device did not take the write \(exception 3: /)]);
    expect(src.status()).toMatchObject({ writes: 4, writesFailed: 1 });
  });

  it('skips polls of a slow device instead of overlapping them', async () => {
    const s = await sim();
    s.unit(1).latencyMs = 150;
    const { src, start } = source(s.port, [{ name: 'slow', poll_interval_ms: 40, tags: [{ name: 'x', register_type: 'holding', address: 0 }] }]);
    await start();
    const status = await until('two polls done and some skipped', () => {
      const d = src.status().devices[0];
      return d && d.requests >= 2 && d.pollsSkipped >= 2 ? d : undefined;
    });
    expect(status.timeouts).toBe(0);
    // One request per poll: the server saw at most one more than the source has counted (the one in flight).
    expect(s.unit(1).requests.holding - status.requests).toBeLessThanOrEqual(1);
  });

  it('notices a connection reset (TCP RST) and reconnects', async () => {
    const s = await sim();
    s.unit(1).setRegisters('holding', 0, [1]);
    const { src, ctx, start } = source(s.port, [{ name: 'dev', poll_interval_ms: 30, tags: [{ name: 'x', register_type: 'holding', address: 0 }] }]);
    await start();
    await until('a good reading', () => latest(ctx.readings, 'dev/x')?.value === 1);

    // modbus-serial reports a reset without a 'close' event; the driver must still see it.
    s.resetConnections();
    await until('the reset noticed', () => src.status().disconnects === 1);
    s.unit(1).setRegisters('holding', 0, [2]);
    await until('good readings on a new connection', () => latest(ctx.readings, 'dev/x')?.value === 2);
    expect(src.status()).toMatchObject({ state: 'connected', connects: 2, disconnects: 1 });
    expect(ctx.logText()).toContain('Modbus connection lost; reconnecting.');
    await src.stop();
    await s.stop();
  });

  it('reconnects after the server goes away, with Bad readings while it is gone', async () => {
    let s = await sim();
    const port = s.port;
    s.unit(1).setRegisters('holding', 0, [1]);
    const { src, ctx, start } = source(port, [{ name: 'dev', poll_interval_ms: 30, tags: [{ name: 'x', register_type: 'holding', address: 0 }] }]);
    await start();
    await until('a good reading', () => latest(ctx.readings, 'dev/x')?.value === 1);

    s.dropConnections();
    await until('a Bad reading after the connection dropped', () => latest(ctx.readings, 'dev/x')?.quality === QUALITY_BAD_NO_COMMUNICATION);
    await until('connected again', () => src.status().connects === 2 && src.status().state === 'connected');

    await s.stop();
    await until('the loss noticed', () => src.status().state !== 'connected');
    s = await sim({ port });
    s.unit(1).setRegisters('holding', 0, [2]);
    await until('good readings from the new server', () => latest(ctx.readings, 'dev/x')?.value === 2, 15_000);
    const status = src.status();
    expect(status).toMatchObject({ state: 'connected', disconnects: 2 });
    expect(status.connects).toBeGreaterThanOrEqual(3);
    expect(ctx.logText()).toContain('Modbus connection lost; reconnecting.');
    await src.stop();
    await src.stop();
    expect(src.status().state).toBe('stopped');
  });
});
