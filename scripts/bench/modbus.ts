import { parseArgs } from 'node:util';
import modbusSerial from 'modbus-serial';
import { createLogger } from '../../common/logger.ts';
import { modbusConfigSchema } from '../../gateway/sources/modbus/config.ts';
import { ModbusSource } from '../../gateway/sources/modbus/driver.ts';
import type { SourceContext } from '../../gateway/sources/types.ts';
import { describeMachine, machine } from './machine.ts';
import { measure, type RunCost } from './measure.ts';
import { startModbusSimProcess, type ModbusSimProcess } from './modbus-sim-process.ts';

/**
 * npm run bench:modbus: registers/s the Modbus source polls from simulated devices (one unit
 * id and one TCP connection each, the simulator in a child process), against bare
 * modbus-serial clients reading the same requests back to back in the same run. Each device
 * has HOLDING_REGISTERS holding registers as float32 tags and INPUT_REGISTERS input registers
 * as uint16 tags: two requests per poll. The last line of output is one JSON object.
 */
const DEFAULT_DEVICES = 20;
const DEFAULT_SECONDS = 5;
const DEFAULT_INTERVAL_MS = 10;
const DEFAULT_REPEAT = 3;
const HOLDING_REGISTERS = 120;
const INPUT_REGISTERS = 100;
const REGISTERS_PER_POLL = HOLDING_REGISTERS + INPUT_REGISTERS;
const FLOAT32_REGISTERS = 2;
const TIMEOUT_MS = 1_000;
const CONNECTED_WAIT_MS = 10_000;
const MS_PER_S = 1000;
const EXIT_USAGE = 2;

interface Options {
  devices: number;
  seconds: number;
  intervalMs: number;
  repeat: number;
}

interface RunResult {
  registersPerS: number;
  pollsPerS: number;
  pollsSkipped: number;
  badReadings: number;
  cost: RunCost;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function options(): Options {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: String(DEFAULT_DEVICES) },
      seconds: { type: 'string', default: String(DEFAULT_SECONDS) },
      interval: { type: 'string', default: String(DEFAULT_INTERVAL_MS) },
      repeat: { type: 'string', default: String(DEFAULT_REPEAT) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run bench:modbus -- [--devices N] [--seconds N] [--interval MS] [--repeat N]');
    say(`  --devices   simulated devices, one unit id and one connection each (default ${DEFAULT_DEVICES}, at most 247)`);
    say(`  --seconds   length of each timed run (default ${DEFAULT_SECONDS})`);
    say(`  --interval  poll_interval_ms of every device in the source run (default ${DEFAULT_INTERVAL_MS}, the smallest allowed)`);
    say(`  --repeat    rounds of bare then source; medians are reported (default ${DEFAULT_REPEAT})`);
    process.exit(0);
  }
  const int = (name: string, text: string | undefined, min: number, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      process.stderr.write(`bench:modbus: --${name}: expected a whole number ${min}-${max}, got ${text}\n`);
      process.exit(EXIT_USAGE);
    }
    return n;
  };
  return {
    devices: int('devices', values.devices, 1, 247),
    seconds: int('seconds', values.seconds, 1, 3600),
    intervalMs: int('interval', values.interval, 10, 60_000),
    repeat: int('repeat', values.repeat, 1, 100),
  };
}

function deviceConfig(unitId: number, intervalMs: number) {
  return {
    name: `dev${unitId}`,
    unit_id: unitId,
    poll_interval_ms: intervalMs,
    tags: [
      ...Array.from({ length: HOLDING_REGISTERS / FLOAT32_REGISTERS }, (_, i) => ({ name: `f${i}`, register_type: 'holding', address: i * FLOAT32_REGISTERS, type: 'float32' })),
      ...Array.from({ length: INPUT_REGISTERS }, (_, i) => ({ name: `u${i}`, register_type: 'input', address: i })),
    ],
  };
}

/** The Modbus sources, one per device, emitting into counters. */
async function sourceRun(sim: ModbusSimProcess, o: Options): Promise<RunResult> {
  const log = createLogger({ name: 'bench', level: 'silent' });
  let registers = 0;
  let bad = 0;
  const ctx: SourceContext = {
    emit: (r) => {
      if (r.details.protocol === 'modbus') registers += r.details.raw.length;
      if (r.quality !== 0) bad++;
    },
    reject: () => {},
    describe: () => {},
    log,
  };
  const sources = Array.from({ length: o.devices }, (_, i) => {
    const config = modbusConfigSchema.parse({ host: '127.0.0.1', port: sim.port, timeout_ms: TIMEOUT_MS, devices: [deviceConfig(i + 1, o.intervalMs)] });
    return new ModbusSource(`bench-${i + 1}`, config);
  });
  for (const s of sources) await s.start(ctx);
  const deadline = Date.now() + CONNECTED_WAIT_MS;
  while (sources.some((s) => s.status().state !== 'connected')) {
    if (Date.now() > deadline) throw new Error('the sources did not connect to the simulator');
    await sleep(10);
  }
  const totals = () => sources.reduce((t, s) => {
    const d = s.status().devices[0];
    return { polls: t.polls + (d?.polls ?? 0), skipped: t.skipped + (d?.pollsSkipped ?? 0) };
  }, { polls: 0, skipped: 0 });
  const start = { registers, bad, ...totals() };
  const { cost } = await measure(() => sleep(o.seconds * MS_PER_S), () => sim.cpuSeconds());
  const end = { registers, bad, ...totals() };
  await Promise.all(sources.map((s) => s.stop()));
  return {
    registersPerS: (end.registers - start.registers) / o.seconds,
    pollsPerS: (end.polls - start.polls) / o.seconds,
    pollsSkipped: end.skipped - start.skipped,
    badReadings: end.bad - start.bad,
    cost,
  };
}

/** The library ceiling: one modbus-serial client per device, the same two reads back to back. */
async function bareRun(sim: ModbusSimProcess, o: Options): Promise<RunResult> {
  const clients = await Promise.all(
    Array.from({ length: o.devices }, async (_, i) => {
      const client = new modbusSerial.default();
      await client.connectTCP('127.0.0.1', { port: sim.port });
      client.setID(i + 1);
      client.setTimeout(TIMEOUT_MS);
      return client;
    }),
  );
  let registers = 0;
  let polls = 0;
  const { cost } = await measure(async () => {
    const end = Date.now() + o.seconds * MS_PER_S;
    await Promise.all(
      clients.map(async (client) => {
        while (Date.now() < end) {
          const holding = await client.readHoldingRegisters(0, HOLDING_REGISTERS);
          const input = await client.readInputRegisters(0, INPUT_REGISTERS);
          registers += holding.data.length + input.data.length;
          polls++;
        }
      }),
    );
  }, () => sim.cpuSeconds());
  await Promise.all(clients.map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))));
  return { registersPerS: registers / (cost.wallMs / MS_PER_S), pollsPerS: polls / (cost.wallMs / MS_PER_S), pollsSkipped: 0, badReadings: 0, cost };
}

async function main(): Promise<void> {
  const o = options();
  const host = machine();
  say(describeMachine(host));
  say(`devices: ${o.devices} simulated units, one TCP connection each; per poll ${REGISTERS_PER_POLL} registers in 2 requests (${HOLDING_REGISTERS} holding as float32, ${INPUT_REGISTERS} input as uint16)`);
  const capRegistersPerS = (o.devices * MS_PER_S * REGISTERS_PER_POLL) / o.intervalMs;
  say(`  source run: ModbusSource per device, poll_interval_ms ${o.intervalMs} (caps it at ${fmt(capRegistersPerS)} registers/s), readings counted, no pipeline`);
  say(`  bare run:   modbus-serial clients reading the same two requests back to back, no decoding`);
  const sim = await startModbusSimProcess(`1-${o.devices}`);
  say(`simulator: pid ${sim.pid}, port ${sim.port} (child process)`);
  const bare: RunResult[] = [];
  const src: RunResult[] = [];
  try {
    for (let round = 1; round <= o.repeat; round++) {
      const b = await bareRun(sim, o);
      bare.push(b);
      say(`  bare   #${round}: ${fmt(b.registersPerS)} registers/s, ${fmt(b.pollsPerS)} polls/s, cpu ${fmt(b.cost.cpuPct)}%, simulator cpu ${fmt(b.cost.peerCpuPct ?? Number.NaN)}%`);
      const s = await sourceRun(sim, o);
      src.push(s);
      say(`  source #${round}: ${fmt(s.registersPerS)} registers/s, ${fmt(s.pollsPerS)} polls/s, ${fmt(s.pollsSkipped)} polls skipped, ${s.badReadings} Bad readings, cpu ${fmt(s.cost.cpuPct)}%, simulator cpu ${fmt(s.cost.peerCpuPct ?? Number.NaN)}%, rss ${fmt(s.cost.rssPeakMb)} MB`);
    }
  } finally {
    await sim.stop();
  }
  const registersPerS = median(src.map((r) => r.registersPerS));
  const bareRegistersPerS = median(bare.map((r) => r.registersPerS));
  const ratio = registersPerS / bareRegistersPerS;
  say();
  const ofCap = registersPerS / capRegistersPerS;
  say(`source: ${fmt(registersPerS)} registers/s from ${o.devices} devices (median of ${o.repeat}), ${fmt(ofCap * 100)} % of what its poll schedule asks for; bare modbus-serial: ${fmt(bareRegistersPerS)} registers/s; ratio ${fmt(ratio, 2)}`);
  say('  (the source polls on its schedule and the bare clients as fast as they can: the ratio is the headroom the schedule leaves, the share of the schedule is what the source keeps up with)');
  say(
    JSON.stringify({
      bench: 'modbus',
      devices: o.devices,
      registers_per_poll: REGISTERS_PER_POLL,
      interval_ms: o.intervalMs,
      seconds: o.seconds,
      repeat: o.repeat,
      registers_per_s: Math.round(registersPerS),
      bare_registers_per_s: Math.round(bareRegistersPerS),
      ratio: Math.round(ratio * 100) / 100,
      cap_registers_per_s: Math.round(capRegistersPerS),
      of_cap: Math.round(ofCap * 1000) / 1000,
      polls_per_s: Math.round(median(src.map((r) => r.pollsPerS))),
      polls_skipped: src.reduce((n, r) => n + r.pollsSkipped, 0),
      bad_readings: src.reduce((n, r) => n + r.badReadings, 0),
      cpu_pct: Math.round(median(src.map((r) => r.cost.cpuPct))),
      bare_cpu_pct: Math.round(median(bare.map((r) => r.cost.cpuPct))),
      rss_peak_mb: Math.round(Math.max(...src.map((r) => r.cost.rssPeakMb))),
      machine: host,
    }),
  );
}

await main();
