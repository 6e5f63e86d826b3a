import { parseConfigText } from '../../common/config/load.ts';
import type { TestEmulator } from '../../test/helpers/emulator.ts';
import { TEST_CLIENT_SECRET, TEST_WORKSPACE_ID } from '../../test/helpers/emulator.ts';
import { relayConfigSchema, type RelayConfig } from '../config.ts';

export const TEST_API_TOKEN = 'test-relay-api-token-5f2a';

/**
 * Relay YAML for tests: the emulator's addresses, a private Redis prefix and short timings so
 * failures show within seconds. `sections` replaces whole top-level sections.
 */
export function relayYaml(o: { emulator: TestEmulator; redisUrl: string; prefix: string; id: string; port?: number; sections?: Record<string, string> }): string {
  const sections: Record<string, string> = {
    relay: `{ id: ${o.id} }`,
    log: '{ level: info }',
    redis: `{ url: "${o.redisUrl}", prefix: ${o.prefix} }`,
    http: `{ host: 127.0.0.1, port: ${o.port ?? 0} }`,
    zerobus: `
  endpoint: ${o.emulator.grpcAddress}
  workspace_url: ${o.emulator.workspaceUrl}
  workspace_id: "${TEST_WORKSPACE_ID}"
  client_id: test-client
  client_secret: ${TEST_CLIENT_SECRET}
  insecure: true
  ack_timeout_ms: 5000
  connect_timeout_ms: 2000
  recovery_attempts: 2
  recovery_initial_ms: 50
  recovery_max_ms: 200`,
    workers: '{ concurrency: 4, discovery_interval_ms: 200, attempts: 5, backoff_initial_ms: 100, backoff_max_ms: 1000 }',
    circuit: '{ failure_threshold: 3, cooldown_ms: 1000, probe_wait_ms: 200 }',
    api: `{ token: ${TEST_API_TOKEN} }`,
    shutdown: '{ drain_ms: 2000, timeout_ms: 5000 }',
    ...o.sections,
  };
  return Object.entries(sections)
    .map(([key, value]) => `${key}: ${value.trimEnd()}`)
    .join('\n');
}

export function relayConfig(yaml: string): RelayConfig {
  return parseConfigText(yaml, relayConfigSchema, {});
}
