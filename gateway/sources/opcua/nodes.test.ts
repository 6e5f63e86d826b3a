import { describe, expect, it } from 'vitest';
import { NodeTable, type ItemSettings } from './nodes.ts';

const settings: ItemSettings = { samplingIntervalMs: 100, queueSize: 1, discardOldest: true, filter: undefined };
const entry = (nodeId: string, tag: string, extra: Partial<{ group: number; writable: boolean }> = {}) => ({
  nodeId,
  tag,
  browsePath: undefined,
  group: extra.group ?? 0,
  settings,
  writable: extra.writable ?? false,
});

describe('NodeTable', () => {
  it('keeps one row per node, in order, sharing settings', () => {
    const t = new NodeTable();
    expect(t.add(entry('ns=2;s=A', 'a'))).toEqual({ index: 0 });
    expect(t.add(entry('ns=2;s=B', 'b', { group: 1, writable: true }))).toEqual({ index: 1 });
    expect(t.add(entry('ns=2;s=A', 'again'))).toEqual({ index: 0, duplicateOf: 0 });
    expect(t.size).toBe(2);
    expect(t.settings).toHaveLength(1);
    expect(t.indexesOfGroup(1)).toEqual([1]);
    expect(t.writableIndex('b')).toBe(1);
    expect(t.writableIndex('a')).toBeUndefined();
    expect(t.hasTag('a')).toBe(true);
  });

  it('gives a second node with a taken tag the tag plus its NodeId', () => {
    const t = new NodeTable();
    t.add(entry('ns=2;s=A', 'x'));
    expect(t.add(entry('ns=3;s=A', 'x'))).toEqual({ index: 1, tagRenamed: true });
    expect(t.tags).toEqual(['x', 'x@ns=3;s=A']);
  });

  it('records type and array-ness without losing writability', () => {
    const t = new NodeTable();
    for (let i = 0; i < 40; i++) t.add(entry(`i=${i}`, `t${i}`, { writable: i === 39 }));
    t.setType(39, 11, true);
    expect([t.dataTypeOf(39), t.isArray(39), t.isWritable(39)]).toEqual([11, true, true]);
    expect([t.dataTypeOf(0), t.isArray(0)]).toEqual([0, false]);
  });

  it('tells whether another table has the same nodes', () => {
    const a = new NodeTable();
    const b = new NodeTable();
    a.add(entry('i=1', 'x'));
    b.add(entry('i=1', 'x'));
    expect(a.sameNodesAs(b)).toBe(true);
    b.add(entry('i=2', 'y'));
    expect(a.sameNodesAs(b)).toBe(false);
    expect(a.sameNodesAs(undefined)).toBe(false);
  });
});
