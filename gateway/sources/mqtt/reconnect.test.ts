import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../../test/helpers/ports.ts';
import { ReconnectPacer } from './reconnect.ts';

/** Stands in for MqttClient's two reconnect events and its options, for the pacing rule alone. */
function eventsOnly(): EventEmitter & { options: IClientOptions } {
  return Object.assign(new EventEmitter(), { options: {} as IClientOptions });
}

describe('ReconnectPacer', () => {
  it('doubles the wait before each further attempt up to the maximum, and starts over after a connect', () => {
    const pacer = new ReconnectPacer({ initialMs: 1000, maxMs: 5000 }, () => 1);
    const client = eventsOnly();
    client.options.reconnectPeriod = pacer.first();
    pacer.attach(client as unknown as MqttClient);
    const waits = [client.options.reconnectPeriod];
    for (let i = 0; i < 4; i++) {
      client.emit('reconnect');
      waits.push(client.options.reconnectPeriod);
    }
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000]);
    client.emit('connect');
    expect(client.options.reconnectPeriod).toBe(1000);
  });

  it('draws each wait between half and all of its ceiling', () => {
    const draws = [0, 0.5, 1];
    const pacer = new ReconnectPacer({ initialMs: 1000, maxMs: 60_000 }, () => draws.shift() ?? 0);
    expect([pacer.first(), pacer.next(), pacer.next()]).toEqual([500, 1500, 4000]);
  });
});

describe('ReconnectPacer on a real mqtt.js client', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('makes mqtt.js wait longer before each attempt while the broker refuses connections', async () => {
    // Only timers are faked: the refused TCP connections are real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const port = await freePort();
    const pacer = new ReconnectPacer({ initialMs: 1000, maxMs: 8000 }, () => 1);
    const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: pacer.first(), connectTimeout: 600_000 });
    pacer.attach(client);
    client.on('error', () => undefined);
    let reconnects = 0;
    client.on('reconnect', () => reconnects++);
    const closed = closeCounter(client);

    const waits: number[] = [];
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        await closed(attempt + 1);
        const wait = client.options.reconnectPeriod as number;
        await vi.advanceTimersByTimeAsync(wait - 1);
        expect(reconnects).toBe(attempt);
        await vi.advanceTimersByTimeAsync(1);
        expect(reconnects).toBe(attempt + 1);
        waits.push(wait);
      }
    } finally {
      client.end(true);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});

/** Resolves once the client has closed n times; counts from the start, so no close is missed. */
function closeCounter(client: MqttClient): (n: number) => Promise<void> {
  let closes = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  client.on('close', () => {
    closes++;
    for (const w of waiters.filter((x) => x.n <= closes)) w.resolve();
  });
  return (n) => (closes >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })));
}
