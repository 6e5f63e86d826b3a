import { describe, expect, it } from 'vitest';
import { problemsFromZod } from '../../../common/config/issues.ts';
import { Secret } from '../../../common/secret.ts';
import { mqttConfigSchema } from './config.ts';

function problems(input: unknown): string[] {
  const result = mqttConfigSchema.safeParse(input, { reportInput: true });
  return result.success ? [] : problemsFromZod(result.error.issues).map((p) => `${p.path}: ${p.message}`);
}

const base = { url: 'mqtt://broker:1883', subscriptions: [{ topic: 'plant/#' }] };

describe('mqtt config schema', () => {
  it('fills every default', () => {
    expect(mqttConfigSchema.parse(base)).toEqual({
      url: 'mqtt://broker:1883',
      keepalive_s: 30,
      clean: true,
      reconnect_period_ms: 1000,
      connect_timeout_ms: 30000,
      subscriptions: [{ topic: 'plant/#', qos: 1, value_path: 'value', tag: '{topic}' }],
    });
  });

  it('wraps the password in a Secret', () => {
    const config = mqttConfigSchema.parse({ ...base, username: 'u', password: 'p' });
    expect(config.password).toBeInstanceOf(Secret);
    expect(config.password?.reveal()).toBe('p');
  });

  it.each(['mqtt://h', 'mqtts://h:8883', 'ws://h/mqtt', 'wss://h:443/mqtt'])('accepts the URL %s', (url) => {
    expect(problems({ ...base, url })).toEqual([]);
  });

  it.each([
    ['an http URL', { ...base, url: 'http://h' }, ['url: expected an mqtt://, mqtts://, ws:// or wss:// URL, got "http://h"']],
    ['a bad wildcard', { ...base, subscriptions: [{ topic: 'a/#/b' }] }, ["subscriptions[0].topic: '#' must be a whole level and the last one, as in site/#"]],
    ['an empty subscription list', { ...base, subscriptions: [] }, ['subscriptions: expected at least 1 items, got 0']],
    ['a qos of 3', { ...base, subscriptions: [{ topic: 'a', qos: 3 }] }, ['subscriptions[0].qos: expected one of 0, 1, 2; got number 3']],
    ['an unknown placeholder', { ...base, subscriptions: [{ topic: 'a/b', tag: '{x}' }] }, ['subscriptions[0].tag: unknown placeholder {x}: use {topic} or a topic level such as {0}']],
    ['a level past the topic', { ...base, subscriptions: [{ topic: 'a/+', tag: '{2}' }] }, ['subscriptions[0].tag: {2} is past the last level of topic a/+ (levels 0-1)']],
    ['a password without a username', { ...base, password: 'p' }, ['username: a password needs a username']],
    ['a persistent session without a client id', { ...base, clean: false }, ['client_id: a persistent session (clean: false) needs a fixed client_id']],
    ['an unknown key', { ...base, subscriptions: [{ topic: 'a', valuepath: 'x' }] }, ['subscriptions[0].valuepath: unknown key']],
    ['a reconnect period of 0', { ...base, reconnect_period_ms: 0 }, ['reconnect_period_ms: expected at least 100, got number 0']],
  ])('refuses %s', (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  it('accepts a high level when the topic ends in #', () => {
    expect(problems({ ...base, subscriptions: [{ topic: 'a/#', tag: '{5}' }] })).toEqual([]);
  });
});
