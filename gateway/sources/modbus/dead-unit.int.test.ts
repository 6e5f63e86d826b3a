import { afterEach, describe, expect, it } from 'vitest';
import { QUALITY_BAD_NO_COMMUNICATION } from '../../../common/quality.ts';
import { startModbusSim, type ModbusSim } from '../../../sim/devices/modbus-sim.ts';
import { recordingContext } from '../../test-support/context.ts';
import { modbusConfigSchema } from './config.ts';
import { ModbusSource } from './driver.ts';

/**
 * A dead unit id on the same connection as a live one: requests on a connection run one at a
 * time, so every request to the dead unit holds the line for a whole timeout. With the unit
 * backoff the dead unit is tried rarely and the live unit keeps its rate; without it (the
 * third run) the live unit waits behind a timeout at almost every request.
 *
 * Figures: live unit polled every 20 ms with 3 requests per poll; timeout 100 ms. Measured
 * after a 2 s warm-up for 3 s. With backoff (1 s doubling) the dead unit costs at most two
 * timeouts (200 ms) in the window: ratio about 0.9 or more. Without backoff each live request
 * waits up to 100 ms: ratio about 0.1.
 */
const LIVE_UNIT = 1;
const DEAD_UNIT = 9;
const POLL_INTERVAL_MS = 20;
const TIMEOUT_MS = 100;
const WARMUP_MS = 2_000;
const MEASURE_MS = 3_000;
const MIN_RATIO_WITH_BACKOFF = 0.7;
const MAX_RATIO_WITHOUT_BACKOFF = 0.4;

const tags = [
  { name: 'a', register_type: 'holding', address: 0 },
  { name: 'b', register_type: 'input', address: 0 },
  { name: 'c', register_type: 'coil', address: 0 },
];

let sim: ModbusSim | undefined;
let source: ModbusSource | undefined;
afterEach(async () => {
  await source?.stop();
  await sim?.stop();
});

async function livePollsPerSecond(withDeadUnit: boolean, backoffMs?: number) {
  sim = await startModbusSim({ units: [LIVE_UNIT] });
  const devices = [{ name: 'live', unit_id: LIVE_UNIT, poll_interval_ms: POLL_INTERVAL_MS, tags }];
  if (withDeadUnit) devices.push({ name: 'dead', unit_id: DEAD_UNIT, poll_interval_ms: POLL_INTERVAL_MS, tags });
  const config = modbusConfigSchema.parse({
    host: '127.0.0.1',
    port: sim.port,
    timeout_ms: TIMEOUT_MS,
    ...(backoffMs !== undefined ? { unit_backoff_initial_ms: backoffMs, unit_backoff_max_ms: backoffMs } : {}),
    devices,
  });
  source = new ModbusSource('line', config);
  const ctx = recordingContext();
  // One Good reading of live/a per completed poll of the live unit.
  const livePolls = () => ctx.readings.filter((r) => r.tag === 'live/a' && r.quality === 0).length;
  await source.start(ctx);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const before = livePolls();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const rate = ((livePolls() - before) * 1000) / MEASURE_MS;
  const status = source.status();
  const deadReadings = ctx.readings.filter((r) => r.tag.startsWith('dead/'));
  await source.stop();
  await sim.stop();
  source = undefined;
  sim = undefined;
  return { rate, status, deadReadings };
}

describe('a dead unit id on a shared connection', () => {
  it('does not slow the live unit: its polls/s stay within 0.7 of the rate without the dead unit', { timeout: 60_000 }, async () => {
    const alone = await livePollsPerSecond(false);
    const beside = await livePollsPerSecond(true);
    const ratio = beside.rate / alone.rate;
    process.stdout.write(`live unit polls/s: alone ${alone.rate.toFixed(1)}, beside a dead unit ${beside.rate.toFixed(1)}, ratio ${ratio.toFixed(2)}\n`);
    expect(alone.rate).toBeGreaterThan(5);
    expect(ratio).toBeGreaterThanOrEqual(MIN_RATIO_WITH_BACKOFF);

    const dead = beside.status.devices.find((d) => d.name === 'dead');
    expect(dead).toMatchObject({ state: 'unreachable', unitId: DEAD_UNIT });
    // Backoff from 1 s: a handful of tries in 5 s, not one per 20 ms tick.
    expect(dead?.timeouts).toBeGreaterThanOrEqual(1);
    expect(dead?.timeouts).toBeLessThanOrEqual(6);
    expect(beside.deadReadings.length).toBeGreaterThan(0);
    expect(beside.deadReadings.every((r) => r.value === null && r.quality === QUALITY_BAD_NO_COMMUNICATION)).toBe(true);

    // The same measurement discriminates: with a 10 ms "backoff" the dead unit is tried at
    // every tick and the live unit slows down to a fraction of its rate.
    const unprotected = await livePollsPerSecond(true, 10);
    const unprotectedRatio = unprotected.rate / alone.rate;
    process.stdout.write(`without backoff: ${unprotected.rate.toFixed(1)} polls/s, ratio ${unprotectedRatio.toFixed(2)}\n`);
    expect(unprotectedRatio).toBeLessThanOrEqual(MAX_RATIO_WITHOUT_BACKOFF);
  });
});
