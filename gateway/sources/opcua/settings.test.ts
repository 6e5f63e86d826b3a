import { describe, expect, it } from 'vitest';
import { groupSchema } from './config.ts';
import { SettingsPool } from './settings.ts';

const group = groupSchema.parse({ sampling_interval_ms: 250, queue_size: 5, nodes: [{ node_id: 'i=1' }] });

describe('SettingsPool', () => {
  it("gives nodes without overrides their group's settings, one shared object", () => {
    const pool = new SettingsPool();
    const a = pool.forGroup(group, {});
    expect(a).toEqual({ samplingIntervalMs: 250, queueSize: 5, discardOldest: true, filter: undefined });
    expect(pool.forGroup(group)).toBe(a);
  });

  it('shares one object per distinct override combination', () => {
    const pool = new SettingsPool();
    const x = pool.forGroup(group, { queue_size: 1 });
    expect(x).toMatchObject({ samplingIntervalMs: 250, queueSize: 1 });
    expect(pool.forGroup(group, { queue_size: 1 })).toBe(x);
    expect(pool.forGroup(group, { queue_size: 5 })).toBe(pool.forGroup(group));
    const filter = { trigger: 'Status', deadband_type: 'none', deadband_value: 0 } as const;
    expect(pool.forGroup(group, { filter })).toMatchObject({ filter });
  });
});
