import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from './http.ts';
import type { GatewayStatus } from './status.ts';

const status: GatewayStatus = {
  gatewayId: 'gw',
  runId: 'run',
  startedAt: '2024-01-01T00:00:00.000Z',
  sources: [],
  tables: {},
  pending: { batches: 0, records: 0, bytes: 0, openRecords: 0 },
  redis: { consecutiveFailures: 0 },
};

describe('gateway HTTP API', () => {
  const registry = new Registry();
  new Counter({ name: 'records_read_total', help: 'h', labelNames: ['source'], registers: [registry] }).inc({ source: 's' }, 3);
  const app = createHttpApp({ status: () => status, registry });

  it('answers /health with ok', async () => {
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /status with the status object', async () => {
    expect(await (await app.request('/status')).json()).toEqual(status);
  });

  it('answers /metrics with Prometheus text from the given registry', async () => {
    const res = await app.request('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('records_read_total{source="s"} 3');
  });

  it('answers an unknown path with 404', async () => {
    expect((await app.request('/nope')).status).toBe(404);
  });
});
