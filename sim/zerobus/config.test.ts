import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigText } from '../../common/config/load.ts';
import { Secret } from '../../common/secret.ts';
import { emulatorConfigSchema } from './config.ts';

const EXAMPLE = new URL('../../config/emulator.example.yaml', import.meta.url).pathname;

function problems(yaml: string): string[] {
  try {
    parseConfigText(yaml, emulatorConfigSchema, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.lines();
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('emulator config', () => {
  it('runs on defaults without a file', () => {
    const config = parseConfigText('{}', emulatorConfigSchema, {});
    expect(config).toMatchObject({
      grpc: { host: '127.0.0.1', port: 50051 },
      http: { host: '127.0.0.1', port: 50052 },
      data_dir: '.data/zerobus',
      token_ttl_s: 3600,
      clients: [],
      fsync: false,
    });
  });

  it('accepts the shipped example, which states the defaults', async () => {
    const example = await loadConfigFile(EXAMPLE, emulatorConfigSchema, {});
    expect(example).toEqual(parseConfigText('{}', emulatorConfigSchema, {}));
  });

  it('wraps client secrets, read from the environment, so they never print', () => {
    const config = parseConfigText('clients:\n  - client_id: relay-sp\n    client_secret: ${SP_SECRET}\n', emulatorConfigSchema, { SP_SECRET: 'hunter2' });
    const secret = config.clients[0]?.client_secret;
    expect(secret).toBeInstanceOf(Secret);
    expect(secret?.reveal()).toBe('hunter2');
    expect(JSON.stringify(config)).not.toContain('hunter2');
  });

  it('reports every problem with its key path', () => {
    const lines = problems('grpc: { port: 70000 }\nhttp: { prot: 1 }\ntoken_ttl_s: 0\nclients: [{ client_id: a }]\nfsync: yes\n');
    expect(lines.sort()).toEqual([
      'config error: clients[0].client_secret: required key is missing',
      'config error: fsync: expected boolean, got "yes"',
      'config error: grpc.port: expected at most 65535, got number 70000',
      'config error: http.prot: unknown key',
      'config error: token_ttl_s: expected at least 1, got number 0',
    ]);
  });
});
