import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QUALITY_BAD_NO_COMMUNICATION } from '../../../common/quality.ts';
import { SIM_EXCEPTION, startModbusSim, type ModbusSim } from '../../../sim/devices/modbus-sim.ts';
import { until } from '../../../test/helpers/wait.ts';
import { recordingContext } from '../../test-support/context.ts';
import { modbusConfigSchema } from './config.ts';
import { ModbusSource } from './driver.ts';
import { QUALITY_BAD_DEVICE_FAILURE } from './failure.ts';

const SOCAT = spawnSync('sh', ['-c', 'command -v socat'], { encoding: 'utf8' }).stdout.trim();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rtuSim(): Promise<ModbusSim> {
  const sim = await startModbusSim({ framing: 'rtu', units: [1, 2] });
  cleanups.push(() => sim.stop());
  const unit = sim.unit(1);
  unit.setValue('holding', 0, 'float32', 'CDAB', 21.5);
  unit.setValue('holding', 2, 'int32', 'ABCD', -70000);
  unit.setString('holding', 4, 3, 'RTU');
  unit.setValue('input', 0, 'uint64', 'DCBA', 9_007_199_254_740_993n);
  unit.setBits('coil', 0, [false, true]);
  unit.setException('input', 10, 1, SIM_EXCEPTION.deviceFailure);
  return sim;
}

const device = (extra: Record<string, unknown> = {}) => ({
  name: 'meter',
  unit_id: 1,
  poll_interval_ms: 50,
  tags: [
    { name: 'flow', register_type: 'holding', address: 0, type: 'float32', order: 'CDAB', unit: 'm3/h' },
    { name: 'total', register_type: 'holding', address: 2, type: 'int32' },
    { name: 'tag', register_type: 'holding', address: 4, type: 'string', length: 3 },
    { name: 'energy', register_type: 'input', address: 0, type: 'uint64', order: 'DCBA' },
    { name: 'valve', register_type: 'coil', address: 1, writable: true },
    { name: 'setpoint', register_type: 'holding', address: 20, type: 'int16', scale: 0.5, writable: true },
    { name: 'faulty', register_type: 'input', address: 10 },
  ],
  ...extra,
});

async function run(config: Record<string, unknown>) {
  const source = new ModbusSource('rtu', modbusConfigSchema.parse({ timeout_ms: 200, ...config }));
  const ctx = recordingContext();
  cleanups.push(() => source.stop());
  await source.start(ctx);
  const latest = (tag: string) => ctx.readings.filter((r) => r.tag === tag).at(-1);
  return { source, ctx, latest };
}

async function readsAndWrites(sim: ModbusSim, config: Record<string, unknown>) {
  const { source, latest } = await run(config);
  await until('every tag read', () => ['flow', 'total', 'tag', 'energy', 'valve', 'faulty'].every((t) => latest(`meter/${t}`)));
  expect(Object.fromEntries(['flow', 'total', 'tag', 'energy', 'valve'].map((t) => [t, latest(`meter/${t}`)?.value]))).toEqual({
    flow: 21.5,
    total: -70000,
    tag: 'RTU',
    energy: '9007199254740993',
    valve: true,
  });
  expect(latest('meter/faulty')).toMatchObject({ value: null, quality: QUALITY_BAD_DEVICE_FAILURE });
  await source.write('meter/valve', false);
  await source.write('meter/setpoint', 12.5);
  expect([sim.unit(1).coils[1], sim.unit(1).holding[20]]).toEqual([0, 25]);
  await until('the writes read back', () => latest('meter/valve')?.value === false && latest('meter/setpoint')?.value === 12.5);
  return source;
}

describe('Modbus RTU over TCP', () => {
  it('reads, decodes and writes RTU frames with CRC on a TCP socket', async () => {
    const sim = await rtuSim();
    await readsAndWrites(sim, { transport: 'rtu_over_tcp', host: '127.0.0.1', port: sim.port, devices: [device()] });
  });

  it('keeps reading a live unit while another unit id on the line is dead', async () => {
    const sim = await rtuSim();
    const { source, latest } = await run({
      transport: 'rtu_over_tcp',
      host: '127.0.0.1',
      port: sim.port,
      devices: [device(), { name: 'gone', unit_id: 7, poll_interval_ms: 50, tags: [{ name: 'x', register_type: 'holding', address: 0 }] }],
    });
    await until('the dead unit marked Bad', () => latest('gone/x')?.quality === QUALITY_BAD_NO_COMMUNICATION);
    const before = source.status().devices[0]?.requests ?? 0;
    await until('the live unit still polled', () => (source.status().devices[0]?.requests ?? 0) >= before + 20);
    expect(latest('meter/flow')?.value).toBe(21.5);
    expect(source.status().devices[1]).toMatchObject({ state: 'unreachable', unitId: 7 });
  });
});

/**
 * Serial RTU through a pseudo-terminal: socat makes a pty whose other side is a TCP
 * connection to the RTU simulator, and the source opens the pty with serialport, as it would
 * /dev/ttyUSB0. What a pty cannot show: baud rate, parity, stop bits and inter-frame timing
 * on a real line (a pty ignores them).
 */
describe.skipIf(!SOCAT)(`Modbus RTU on a serial line (pty via socat${SOCAT ? '' : ': not installed, apt-get install socat'})`, () => {
  it('reads, decodes and writes through the serial port', async () => {
    const sim = await rtuSim();
    const dir = await mkdtemp(join(tmpdir(), 'modbus-pty-'));
    const path = join(dir, 'ttyV0');
    const socat: ChildProcess = spawn(SOCAT, [`pty,raw,echo=0,link=${path}`, `tcp:127.0.0.1:${sim.port}`], { stdio: 'ignore' });
    cleanups.push(async () => {
      socat.kill();
      await rm(dir, { recursive: true, force: true });
    });
    await until('the pty link', () => existsSync(path));
    const source = await readsAndWrites(sim, { transport: 'rtu', serial: { path, baud_rate: 19200, parity: 'even' }, devices: [device()] });
    expect(source.status()).toMatchObject({ state: 'connected', connects: 1 });
  });
});
