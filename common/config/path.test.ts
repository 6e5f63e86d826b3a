import { describe, expect, it } from 'vitest';
import { formatPath, isSecretPath } from './path.ts';

describe('formatPath', () => {
  it('writes list indexes in brackets and keys with dots', () => {
    expect(formatPath(['sources', 2, 'modbus', 'registers', 0, 'data_type'])).toBe('sources[2].modbus.registers[0].data_type');
    expect(formatPath([])).toBe('(root)');
  });
});

describe('isSecretPath', () => {
  it.each([
    [['zerobus', 'client_secret'], true],
    [['sources', 0, 'mqtt', 'password'], true],
    [['auth', 'access_token'], true],
    [['spool', 'encryption_key'], true],
    [['spool', 'key'], true],
    [['token_ttl_s'], false],
    [['zerobus', 'token_refresh_margin_ms'], false],
    [['keepalive_s'], false],
    [['monkey'], false],
  ])('%j is secret: %s', (path, expected) => {
    expect(isSecretPath(path)).toBe(expected);
  });
});
