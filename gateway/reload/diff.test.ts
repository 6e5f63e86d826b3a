import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../common/config/load.ts';
import { gatewayConfigSchema, type GatewayConfig } from '../config.ts';
import { planReload } from './diff.ts';

const config = (yaml: string, env: Record<string, string> = {}): GatewayConfig => parseConfigText(yaml, gatewayConfigSchema, env);
const source = (name: string, extra = '') => `  - name: ${name}\n    mqtt: { url: "mqtt://127.0.0.1:1883", subscriptions: [{ topic: "${name}/#" }]${extra} }\n`;

const BASE = `gateway: { id: gw }\nsources:\n${source('a')}${source('b')}${source('c')}`;

describe('planReload', () => {
  it('sorts sources into added, removed, restarted, updated and unchanged', () => {
    const next = `gateway: { id: gw }\nsources:\n${source('a', ', keepalive_s: 10')}${source('b')}    report: { mode: change }\n${source('d')}`;
    const plan = planReload(config(BASE), config(next));
    expect(plan.sources).toEqual({ added: ['d'], removed: ['c'], restarted: ['a'], updated: ['b'], unchanged: [] });
    expect(plan.restartRequired).toEqual([]);
  });

  it('restarts a source whose table changes through routing.tables, and one that is disabled', () => {
    const next = `gateway: { id: gw }\nrouting: { tables: { mqtt: main.iot.other } }\nsources:\n${source('a')}    table: main.iot.mqtt_bronze\n${source('b')}    enabled: false\n${source('c')}`;
    expect(planReload(config(BASE), config(next)).sources).toEqual({ added: [], removed: [], restarted: ['b', 'c'], updated: [], unchanged: ['a'] });
  });

  it('sees a changed password although secrets print alike', () => {
    const withPassword = (p: string) => `sources:\n  - name: a\n    mqtt: { url: "mqtt://h:1883", username: u, password: "${p}", subscriptions: [{ topic: t }] }\n`;
    expect(planReload(config(withPassword('one')), config(withPassword('two'))).sources.restarted).toEqual(['a']);
    expect(planReload(config(withPassword('one')), config(withPassword('one'))).sources.unchanged).toEqual(['a']);
  });

  it('lists settings that need a restart, keeps their old values, and applies the live ones', () => {
    const next = `gateway: { id: gw2, stop_timeout_ms: 500 }\nredis: { url: "redis://other:6379" }\nbatching: { max_records: 10 }\nspool: { dir: /tmp/x }\nhttp: { api_token: "\${TOKEN}" }\nsources:\n${source('a')}${source('b')}${source('c')}`;
    const current = config(BASE);
    const plan = planReload(current, config(next, { TOKEN: 'a-long-enough-token-123' }));
    expect(plan.restartRequired).toEqual(['gateway.id', 'redis.url', 'http.api_token', 'spool.dir']);
    expect(plan.batchingChanged).toBe(true);
    expect(plan.effective.gateway).toEqual({ id: 'gw', stop_timeout_ms: 500 });
    expect(plan.effective.redis).toBe(current.redis);
    expect(plan.effective.spool).toBe(current.spool);
    expect(plan.effective.batching.max_records).toBe(10);
  });
});
