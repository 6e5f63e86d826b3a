import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../common/config/load.ts';
import { gatewayConfigSchema } from './config.ts';

const SOURCE = 'sources:\n  - name: a\n    mqtt: { url: "mqtt://127.0.0.1:1883", subscriptions: [{ topic: "a/#" }] }\n';
const KEY_HEX = randomBytes(32).toString('hex');

function problems(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfigText(yaml + SOURCE, gatewayConfigSchema, env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.lines();
    throw err;
  }
}

describe('gateway config: queue, spool, reload, http', () => {
  it('has no spool by default, a bounded drop_oldest memory queue, and file watching on', () => {
    const c = parseConfigText(SOURCE, gatewayConfigSchema, {});
    expect(c.spool).toEqual({ max_bytes: 1024 ** 3, segment_bytes: 16 * 1024 ** 2, policy: 'drop_oldest' });
    expect(c.queue).toEqual({ max_batches: 10_000, max_bytes: 64 * 1024 ** 2, policy: 'drop_oldest' });
    expect(c.reload).toEqual({ watch: true, debounce_ms: 500 });
    expect(c.http.api_token).toBeUndefined();
  });

  it('takes a spool key from the environment, and keeps it secret', () => {
    const c = parseConfigText(`spool: { dir: /tmp/s, encryption: { key: "\${K}" } }\n${SOURCE}`, gatewayConfigSchema, { K: KEY_HEX });
    expect(c.spool.encryption?.key?.reveal()).toBe(KEY_HEX);
    expect(JSON.stringify(c)).not.toContain(KEY_HEX);
  });

  it.each([
    ['a key that is not 32 bytes, without echoing it', 'spool: { dir: /s, encryption: { key: "${K}" } }\n', { K: 'hunter2-hunter2' }, [
      'config error: spool.encryption.key: expected 32 bytes as 64 hex digits or 44 base64 characters (got 15 characters); generate one with: openssl rand -base64 32',
    ]],
    ['both key and key_file', `spool: { dir: /s, encryption: { key: "${KEY_HEX}", key_file: /k } }\n`, {}, ['config error: spool.encryption: expected exactly one of key or key_file']],
    ['a bound under two segments', 'spool: { dir: /s, max_bytes: 65536, segment_bytes: 65536 }\n', {}, ['config error: spool.max_bytes: expected at least 2 x segment_bytes (131072), got 65536']],
    ['an unknown policy', 'queue: { policy: drop_random }\n', {}, ['config error: queue.policy: expected one of drop_oldest, drop_newest, block; got "drop_random"']],
    ['a short api token, without echoing it', 'http: { api_token: "short" }\n', {}, [
      'config error: http.api_token: expected at least 16 characters of A-Z a-z 0-9 . _ ~ + / - (e.g. openssl rand -hex 24)',
    ]],
    ['an unknown top-level key', 'x: 1\n', {}, ['config error: x: unknown key']],
  ])('refuses %s', (_name, yaml, env, expected) => {
    expect(problems(yaml, env)).toEqual(expected);
  });

  it('checks report-by-exception per source with its path', () => {
    const yaml = 'sources:\n  - name: a\n    report: { mode: deadband }\n    mqtt: { url: "mqtt://h:1883", subscriptions: [{ topic: t }] }\n';
    expect(() => parseConfigText(yaml, gatewayConfigSchema, {})).toThrow('sources[0].report.mode: mode deadband needs deadband_abs or deadband_pct above 0');
  });
});
