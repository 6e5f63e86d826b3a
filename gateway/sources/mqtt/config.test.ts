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
      protocol_version: 4,
      keepalive_s: 30,
      clean: true,
      reconnect_period_ms: 1000,
      reconnect_max_ms: 60000,
      connect_timeout_ms: 30000,
      subscriptions: [{ topic: 'plant/#', qos: 1, format: 'json' }],
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
    ['a backoff ceiling below the first wait', { ...base, reconnect_period_ms: 5000, reconnect_max_ms: 1000 }, ['reconnect_max_ms: must be at least reconnect_period_ms (5000)']],
    ['protocol version 3', { ...base, protocol_version: 3 }, ['protocol_version: expected one of 4, 5; got number 3']],
    ['a session expiry on MQTT 3.1.1', { ...base, clean: false, client_id: 'c', session_expiry_s: 60 }, ['session_expiry_s: needs protocol_version 5 (MQTT 3.1.1 has no session expiry)']],
    ['a session expiry on a clean session', { ...base, protocol_version: 5, session_expiry_s: 60 }, ['session_expiry_s: applies to a persistent session (clean: false)']],
    ['TLS settings on a plain URL', { ...base, tls: { ca_file: '/ca.pem' } }, ['tls: TLS settings need an mqtts:// or wss:// URL']],
    ['a client certificate without its key', { ...base, url: 'mqtts://h', tls: { cert_file: '/c.pem' } }, ['tls.key_file: a client certificate needs its key_file']],
    ['a key without its certificate', { ...base, url: 'mqtts://h', tls: { key_file: '/k.pem' } }, ['tls.cert_file: a client key needs its cert_file']],
    ['a passphrase without a key', { ...base, url: 'wss://h', tls: { key_passphrase: 'p' } }, ['tls.key_passphrase: a key passphrase needs a key_file']],
    ['an unknown format', { ...base, subscriptions: [{ topic: 'a', format: 'xml' }] }, ['subscriptions[0].format: expected one of json, plain, sparkplug_b; got "xml"']],
    [
      'a json key on a plain subscription',
      { ...base, subscriptions: [{ topic: 'a', format: 'plain', value_path: 'v' }] },
      ["subscriptions[0].value_path: applies only to format json; this subscription's format is plain"],
    ],
    [
      'a sparkplug key on a json subscription',
      { ...base, subscriptions: [{ topic: 'a', rebirth: true }] },
      ["subscriptions[0].rebirth: applies only to format sparkplug_b; this subscription's format is json"],
    ],
    ['a plain type on sparkplug', { ...base, subscriptions: [{ topic: 'spBv1.0/#', format: 'sparkplug_b', plain_type: 'number' }] }, [
      "subscriptions[0].plain_type: applies only to format plain; this subscription's format is sparkplug_b",
    ]],
    [
      'a sparkplug topic outside spBv1.0',
      { ...base, subscriptions: [{ topic: 'plant/#', format: 'sparkplug_b' }] },
      ['subscriptions[0].topic: a sparkplug_b topic starts with spBv1.0/, e.g. spBv1.0/plant1/#'],
    ],
    [
      'a sparkplug tag without {metric}',
      { ...base, subscriptions: [{ topic: 'spBv1.0/#', format: 'sparkplug_b', tag: '{group_id}/{device_id}' }] },
      ['subscriptions[0].tag: a sparkplug_b tag must contain {metric}, or every metric of a device would share one tag'],
    ],
    [
      'a topic level in a sparkplug tag',
      { ...base, subscriptions: [{ topic: 'spBv1.0/#', format: 'sparkplug_b', tag: '{1}/{metric}' }] },
      ['subscriptions[0].tag: unknown placeholder {1}: a sparkplug_b tag uses {group_id}, {edge_node_id}, {device_id} and {metric}'],
    ],
    [
      'fields beside a value_path',
      { ...base, subscriptions: [{ topic: 'a', value_path: 'v', fields: [{ value_path: 't' }] }] },
      ['subscriptions[0].value_path: with fields, each field has its own value_path'],
    ],
    [
      'two fields with one tag',
      { ...base, subscriptions: [{ topic: 'a/b', fields: [{ value_path: 't', tag: '{1}' }, { value_path: 's', tag: '{1}' }] }] },
      ['subscriptions[0].fields[1].tag: same tag as fields[0]; give each field its own tag'],
    ],
    [
      'a field tag past the topic',
      { ...base, subscriptions: [{ topic: 'a/b', fields: [{ value_path: 't', tag: '{4}' }] }] },
      ['subscriptions[0].fields[0].tag: {4} is past the last level of topic a/b (levels 0-1)'],
    ],
    ['quality numbers without a quality path', { ...base, subscriptions: [{ topic: 'a', quality_numbers: 'opcda' }] }, ['subscriptions[0].quality_numbers: needs a quality_path']],
    ['an empty field list', { ...base, subscriptions: [{ topic: 'a', fields: [] }] }, ['subscriptions[0].fields: expected at least 1 items, got 0']],
  ])('refuses %s', (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  it('accepts a full MQTT 5 TLS config with every format', () => {
    const config = mqttConfigSchema.parse({
      url: 'mqtts://broker:8883',
      protocol_version: 5,
      client_id: 'gw-1',
      clean: false,
      session_expiry_s: 3600,
      tls: { ca_file: '/ca.pem', cert_file: '/c.pem', key_file: '/k.pem', key_passphrase: 'secret', servername: 'broker.local' },
      subscriptions: [
        { topic: 'plant/+/data', fields: [{ value_path: 'temp', quality_path: 'q' }, { value_path: 'speed', tag: '{1}/speed' }], timestamp_path: 'ts', quality_numbers: 'opcda' },
        { topic: 'plant/+/state', format: 'plain', plain_type: 'string', tag: '{1}/state' },
        { topic: 'spBv1.0/plant1/#', format: 'sparkplug_b', rebirth: true, rebirth_min_interval_ms: 1000 },
      ],
    });
    expect(config.tls?.key_passphrase).toBeInstanceOf(Secret);
    expect(config.tls?.verify_server).toBe(true);
    expect(JSON.stringify(config)).not.toContain('secret');
  });

  it('accepts a high level when the topic ends in #', () => {
    expect(problems({ ...base, subscriptions: [{ topic: 'a/#', tag: '{5}' }] })).toEqual([]);
  });
});
