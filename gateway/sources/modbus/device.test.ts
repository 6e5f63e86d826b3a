import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QUALITY_BAD_NO_COMMUNICATION } from '../../../common/quality.ts';
import type { SourceReading } from '../../../common/reading.ts';
import { captureLogger } from '../../../test/helpers/logs.ts';
import type { ConnectionState } from '../types.ts';
import { deviceSchema } from './config.ts';
import type { Outcome, ReadOp } from './connection.ts';
import { DevicePoller } from './device.ts';
import { QUALITY_BAD_CONFIGURATION_ERROR } from './failure.ts';
import { compileDevice } from './tags.ts';

const INTERVAL_MS = 100;
const BACKOFF = { initialMs: 1000, maxMs: 8000 };
const TIMEOUT: Outcome = { ok: false, failure: { kind: 'timeout', message: 'no answer within the timeout' } };

/** A device with two requests per poll: holding 0-1 (two tags) and input 10. */
const device = deviceSchema.parse({
  name: 'plc',
  unit_id: 3,
  poll_interval_ms: INTERVAL_MS,
  tags: [
    { name: 'a', register_type: 'holding', address: 0 },
    { name: 'b', register_type: 'holding', address: 1, type: 'int16' },
    { name: 'c', register_type: 'input', address: 10 },
  ],
});

interface Call {
  op: ReadOp;
  answer(outcome: Outcome): void;
}

function setup(state: { connection: ConnectionState } = { connection: 'connected' }) {
  const calls: Call[] = [];
  const readings: SourceReading[] = [];
  const { log, text } = captureLogger('device');
  const poller = new DevicePoller({
    source: 'src',
    device,
    compiled: compileDevice(device, { maxRegisters: 125, maxBits: 2000, maxGap: 0 }),
    timeoutMs: 50,
    backoff: BACKOFF,
    execute: (_key, op) => new Promise<Outcome>((answer) => calls.push({ op, answer })),
    connectionState: () => state.connection,
    emit: (r) => readings.push(r),
    log,
    random: () => 0,
  });
  /** Answers the oldest open call. */
  const answer = async (outcome: Outcome) => {
    const call = calls.shift();
    if (!call) throw new Error('no request is waiting for an answer');
    call.answer(outcome);
    await vi.advanceTimersByTimeAsync(0);
  };
  /** Stops the poller as the source does: the connection answers what is still open with "not connected". */
  const finish = async () => {
    const stopped = poller.stop();
    for (const call of calls.splice(0)) call.answer({ ok: false, failure: { kind: 'disconnected', message: 'not connected' } });
    await stopped;
  };
  return { poller, calls, readings, answer, finish, logText: text, state };
}

const ok = (...data: number[]): Outcome => ({ ok: true, data });
const summary = (readings: SourceReading[]) => readings.map((r) => [r.tag, r.value, r.quality]);

describe('DevicePoller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads every planned request in order and emits one reading per tag', async () => {
    const { poller, calls, readings, answer, finish } = setup();
    poller.start();
    expect(calls.map((c) => c.op)).toEqual([{ kind: 'read', unitId: 3, registerType: 'holding', address: 0, count: 2 }]);
    await answer(ok(7, 0xfffe));
    expect(calls[0]?.op).toEqual({ kind: 'read', unitId: 3, registerType: 'input', address: 10, count: 1 });
    await answer(ok(9));
    expect(summary(readings)).toEqual([
      ['plc/a', 7, 0],
      ['plc/b', -2, 0],
      ['plc/c', 9, 0],
    ]);
    expect(readings[0]?.details).toEqual({ protocol: 'modbus', unitId: 3, registerType: 'holding', address: 0, raw: [7] });
    expect(poller.status()).toMatchObject({ state: 'polling', polls: 1, requests: 2, pollsSkipped: 0 });
    await finish();
  });

  it('never overlaps polls: ticks that find a poll running are skipped and counted', async () => {
    const { poller, calls, answer, finish } = setup();
    poller.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(calls).toHaveLength(1);
    expect(poller.status()).toMatchObject({ polls: 1, pollsSkipped: 3 });
    await answer(ok(1, 2));
    await answer(ok(3));
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(calls).toHaveLength(1);
    expect(poller.status()).toMatchObject({ polls: 2, pollsSkipped: 3 });
    await finish();
  });

  it('stops a poll at a timeout, gives every tag Bad_NoCommunication and backs off before trying again', async () => {
    const { poller, calls, readings, answer, logText, finish } = setup();
    poller.start();
    await answer(TIMEOUT);
    expect(calls).toHaveLength(0);
    expect(summary(readings)).toEqual([
      ['plc/a', null, QUALITY_BAD_NO_COMMUNICATION],
      ['plc/b', null, QUALITY_BAD_NO_COMMUNICATION],
      ['plc/c', null, QUALITY_BAD_NO_COMMUNICATION],
    ]);
    expect(poller.status()).toMatchObject({ state: 'unreachable', timeouts: 1, badReadings: 3, requests: 1 });

    // random() = 0 gives half the ceiling: 500 ms after the first timeout, 1000 after the second.
    await vi.advanceTimersByTimeAsync(400);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(calls).toHaveLength(1);
    await answer(TIMEOUT);
    await vi.advanceTimersByTimeAsync(900);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(calls).toHaveLength(1);

    await answer(ok(1, 2));
    await answer(ok(3));
    expect(poller.status()).toMatchObject({ state: 'polling', timeouts: 2, polls: 3 });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(calls).toHaveLength(1);
    expect(logText().match(/Modbus device does not answer; backing off./g)).toHaveLength(1);
    expect(logText()).toContain('Modbus device answers again.');
    await finish();
  });

  it('gives only the tags of a request answered with an exception a Bad quality, and reads on', async () => {
    const { poller, readings, answer, logText, finish } = setup();
    poller.start();
    await answer({ ok: false, failure: { kind: 'exception', code: 2, message: 'Illegal data address' } });
    await answer(ok(5));
    expect(summary(readings)).toEqual([
      ['plc/a', null, QUALITY_BAD_CONFIGURATION_ERROR],
      ['plc/b', null, QUALITY_BAD_CONFIGURATION_ERROR],
      ['plc/c', 5, 0],
    ]);
    expect(poller.status()).toMatchObject({ state: 'polling', exceptions: 1, badReadings: 2, lastError: 'exception 2: Illegal data address' });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await answer({ ok: false, failure: { kind: 'exception', code: 2, message: 'Illegal data address' } });
    expect(logText().match(/Modbus read failed/g)).toHaveLength(1);
    await finish();
  });

  it('reports a lost connection once, not at every tick, and polls again when it is back', async () => {
    const { poller, calls, readings, answer, state, finish } = setup();
    poller.start();
    await answer(ok(1, 2));
    await answer(ok(3));
    state.connection = 'disconnected';
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 5);
    expect(calls).toHaveLength(0);
    expect(summary(readings.slice(3))).toEqual([
      ['plc/a', null, QUALITY_BAD_NO_COMMUNICATION],
      ['plc/b', null, QUALITY_BAD_NO_COMMUNICATION],
      ['plc/c', null, QUALITY_BAD_NO_COMMUNICATION],
    ]);
    expect(poller.status().state).toBe('disconnected');
    state.connection = 'connected';
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await answer(ok(4, 5));
    await answer(ok(6));
    expect(summary(readings.slice(6)).map((r) => r[1])).toEqual([4, 5, 6]);
    expect(poller.status().state).toBe('polling');
    await finish();
  });

  it('stays silent while the first connection is still opening', async () => {
    const { poller, calls, readings, finish } = setup({ connection: 'connecting' });
    poller.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(calls).toHaveLength(0);
    expect(readings).toHaveLength(0);
    expect(poller.status().state).toBe('waiting');
    await finish();
  });

  it('skips and counts every tick while paused, finishing the poll in progress, and polls at once on resume', async () => {
    const { poller, calls, readings, answer, finish } = setup();
    poller.start();
    poller.pause();
    await answer(ok(1, 2));
    await answer(ok(3));
    expect(readings).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 4);
    expect(calls).toHaveLength(0);
    expect(readings).toHaveLength(3);
    expect(poller.status()).toMatchObject({ state: 'polling', polls: 1, pollsPaused: 4, pollsSkipped: 0 });
    poller.resume();
    expect(calls).toHaveLength(1);
    await answer(ok(4, 5));
    await answer(ok(6));
    expect(summary(readings.slice(3)).map((r) => r[1])).toEqual([4, 5, 6]);
    expect(poller.status()).toMatchObject({ polls: 2, pollsPaused: 4 });
    await finish();
  });

  it('emits no Bad readings for a connection lost while paused until it resumes', async () => {
    const { poller, readings, answer, state, finish } = setup();
    poller.start();
    await answer(ok(1, 2));
    await answer(ok(3));
    poller.pause();
    state.connection = 'disconnected';
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(readings).toHaveLength(3);
    poller.resume();
    expect(summary(readings.slice(3)).map((r) => r[2])).toEqual([QUALITY_BAD_NO_COMMUNICATION, QUALITY_BAD_NO_COMMUNICATION, QUALITY_BAD_NO_COMMUNICATION]);
    expect(poller.status().state).toBe('disconnected');
    await finish();
  });

  it('emits nothing for a poll that ends after stop', async () => {
    const { poller, calls, readings } = setup();
    poller.start();
    const stopped = poller.stop();
    calls[0]?.answer(ok(1, 2));
    await stopped;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 2);
    expect(readings).toHaveLength(0);
    expect(poller.status().state).toBe('stopped');
  });
});
