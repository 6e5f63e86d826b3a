import { describe, expect, it } from 'vitest';
import { Secret } from '../common/secret.ts';
import { opcuaServerConfigSchema } from './config.ts';

const parse = (input: unknown) => opcuaServerConfigSchema.safeParse(input);
const problems = (input: unknown) => {
  const result = parse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('opcua_server config', () => {
  it('is off, secure and read-only by default', () => {
    const config = opcuaServerConfigSchema.parse({});
    expect(config).toMatchObject({
      enabled: false,
      port: 4840,
      endpoint_path: '/connector',
      allow_anonymous: false,
      security_modes: ['Sign', 'SignAndEncrypt'],
      security_policies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
      write_through: {},
      min_sampling_interval_ms: 0,
      certificate: { expiry_warning_days: 30, renew_self_signed: true },
    });
    expect(config.namespace_uri).toMatch(/^urn:.+:iot-connector$/);
  });

  it('wraps passwords in Secret so they never print', () => {
    const config = opcuaServerConfigSchema.parse({ enabled: true, users: [{ username: 'hmi', password: 's3cret' }] });
    expect(config.users[0]!.password).toBeInstanceOf(Secret);
    expect(JSON.stringify(config)).not.toContain('s3cret');
    expect(config.users[0]!.can_write).toBe(false);
  });

  it('refuses an enabled server nobody could log in to', () => {
    expect(problems({ enabled: true })).toEqual(['users: no client could log in: add a user, or set allow_anonymous: true']);
    expect(problems({ enabled: true, allow_anonymous: true })).toEqual([]);
  });

  it('names every problem with its key', () => {
    expect(
      problems({
        port: 70000,
        security_modes: ['Fast'],
        security_policies: ['Basic128Rsa15'],
        endpoint_path: 'connector',
        users: [
          { username: 'a', password: 'x' },
          { username: 'a', password: 'y' },
        ],
        write_through: { plc1: { tags: ['a/***'] }, 'bad name': {} },
        colour: 'red',
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^port: /),
        expect.stringMatching(/^security_modes\.0: /),
        expect.stringMatching(/^security_policies\.0: /),
        expect.stringMatching(/^endpoint_path: expected a path starting with \//),
        expect.stringMatching(/^write_through\.plc1\.tags\.0: .*\*\*\*/),
        expect.stringMatching(/^write_through\.bad name: /),
        expect.stringMatching(/colour/),
      ]),
    );
    expect(problems({ users: [{ username: 'a', password: 'x' }, { username: 'a', password: 'y' }] })).toEqual(['users.1.username: duplicate user "a" (also users[0])']);
  });

  it('makes every tag of a write_through source writable unless tags are listed', () => {
    const config = opcuaServerConfigSchema.parse({ write_through: { plc1: {}, plc2: { tags: ['setpoints/*'] } } });
    expect(config.write_through).toEqual({ plc1: { tags: ['**'] }, plc2: { tags: ['setpoints/*'] } });
  });
});
