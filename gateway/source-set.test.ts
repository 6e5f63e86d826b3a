import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../common/config/load.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { gatewayConfigSchema, type GatewayConfig } from './config.ts';
import { GatewayEvents } from './events.ts';
import { Enqueuer } from './pipeline/enqueue.ts';
import { createPipelineMetrics } from './pipeline/metrics.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import { planSources } from './reload/diff.ts';
import { SourceSet } from './source-set.ts';
import { mqttConfigSchema } from './sources/mqtt/config.ts';
import type { Source, SourceSpec, SourceStatus } from './sources/types.ts';

/** A driver that records the flow calls it gets; 'refuses' says false to pause, 'plain' has no pause at all. */
class TestSource implements Source {
  readonly calls: string[] = [];
  constructor(readonly name: string) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  status(): SourceStatus {
    return { state: 'connected', details: { calls: this.calls.length } };
  }
}
class PausingSource extends TestSource {
  pause(): boolean {
    this.calls.push('pause');
    return this.name !== 'refuses';
  }
  resume(): void {
    this.calls.push('resume');
  }
}

const created = new Map<string, TestSource>();
const spec: SourceSpec<unknown> = {
  protocol: 'mqtt',
  configSchema: mqttConfigSchema,
  create(name) {
    const source = name === 'plain' ? new TestSource(name) : new PausingSource(name);
    created.set(name, source);
    return source;
  },
};

const config = (names: string[]): GatewayConfig =>
  parseConfigText(
    `redis: { url: "redis://127.0.0.1:1" }\nsources:\n${names.map((n) => `  - name: ${n}\n    mqtt: { url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: t }] }`).join('\n')}\n`,
    gatewayConfigSchema,
    {},
  );

function setup() {
  const logs = captureLogger();
  const metrics = createPipelineMetrics(new Registry());
  const sink = { send: async () => {}, close: async () => {} };
  const enqueuer = new Enqueuer({ sink, gatewayId: 'gw', runId: 'run', log: logs.log, metrics });
  const events = new GatewayEvents();
  const pipeline = new Pipeline({ gatewayId: 'gw', runId: 'run', log: logs.log, metrics, batching: { maxRecords: 10, maxBytes: 10_000, maxWaitMs: 10 }, recordType: 'json', enqueuer, events });
  const set = new SourceSet({ pipeline, events, log: logs.log, specs: [spec] });
  const flows = () => Object.fromEntries(set.entries().map((e) => [e.name, e.flow]));
  return { set, pipeline, logs, flows };
}

describe('SourceSet under the block policy', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    created.clear();
  });

  it('pauses the sources that can, marks the others cannot_pause, and resumes only the paused ones', async () => {
    const { set, pipeline, logs, flows } = setup();
    stop = async () => {
      await set.stopAll();
      await pipeline.stop(0);
    };
    await set.startAll(config(['pauses', 'refuses', 'plain']));
    expect(flows()).toEqual({ pauses: 'running', refuses: 'running', plain: 'running' });

    set.setPaused(true);
    set.setPaused(true);
    expect(flows()).toEqual({ pauses: 'paused', refuses: 'cannot_pause', plain: 'cannot_pause' });
    expect(created.get('pauses')?.calls).toEqual(['pause']);
    expect(created.get('refuses')?.calls).toEqual(['pause']);
    const warnings = logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.source)).toEqual(['plain']);
    expect(warnings[0]?.msg).toContain('cannot pause');

    set.setPaused(false);
    expect(flows()).toEqual({ pauses: 'running', refuses: 'running', plain: 'running' });
    expect(created.get('pauses')?.calls).toEqual(['pause', 'resume']);
    expect(created.get('refuses')?.calls).toEqual(['pause']);
    expect(set.statusOf(set.entries()[0]!)).toEqual({ state: 'connected', details: { calls: 2 } });
  });

  it('pauses a source that a reload starts while the queue is blocked', async () => {
    const { set, pipeline, flows } = setup();
    stop = async () => {
      await set.stopAll();
      await pipeline.stop(0);
    };
    const before = config(['pauses']);
    await set.startAll(before);
    set.setPaused(true);
    const after = config(['pauses', 'added']);
    await set.apply(after, planSources(before, after));
    expect(flows()).toEqual({ pauses: 'paused', added: 'paused' });
    expect(created.get('added')?.calls).toEqual(['pause']);
  });
});
