import { describe, expect, it } from 'vitest';
import { interpolateEnv } from './interpolate.ts';

describe('interpolateEnv', () => {
  const env = { HOST: 'broker.local', PORT: '1884', FLAG: 'true', EMPTY: '' };

  it.each([
    ['${HOST}', 'broker.local'],
    ['mqtt://${HOST}:${PORT}', 'mqtt://broker.local:1884'],
    ['${PORT}', 1884],
    ['${FLAG}', true],
    ['${MISSING:-fallback}', 'fallback'],
    ['${MISSING:-}', ''],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['$${HOST}', '${HOST}'],
    ['plain text', 'plain text'],
    ['${MISSING:-1883}', 1883],
  ])('%s becomes %j', (input, expected) => {
    const { value, problems } = interpolateEnv({ v: input }, env);
    expect(problems).toEqual([]);
    expect((value as { v: unknown }).v).toEqual(expected);
  });

  it('names the key path of every unset variable', () => {
    const { problems } = interpolateEnv({ sources: [{ mqtt: { url: '${MQTT_URL}' } }, { mqtt: { password: 'x${PW}' } }] }, {});
    expect(problems).toEqual([
      { path: 'sources[0].mqtt.url', message: 'environment variable MQTT_URL is not set' },
      { path: 'sources[1].mqtt.password', message: 'environment variable PW is not set' },
    ]);
  });

  it('leaves numbers, booleans and nulls of the YAML alone', () => {
    expect(interpolateEnv({ a: 1, b: false, c: null, d: [1, 'x'] }, {}).value).toEqual({ a: 1, b: false, c: null, d: [1, 'x'] });
  });
});
