import { describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import { GatewayEvents, type SourceHandle } from '../gateway/events.ts';
import type { TagInfo } from '../gateway/sources/types.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { bindEvents, type EventTarget } from './bind-events.ts';
import { reading } from './test-support.ts';

function recorder(): EventTarget & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    addSource: (h: SourceHandle) => calls.push(`added ${h.name}`),
    removeSource: (name: string) => calls.push(`removed ${name}`),
    declare: (source: string, tags: TagInfo[]) => calls.push(`tags ${source} ${tags.map((t) => t.tag).join(',')}`),
    onReading: (r: Reading) => calls.push(`reading ${r.source}/${r.tag}=${String(r.value)}`),
  };
}

const handle = (name: string): SourceHandle => ({ name, protocol: 'mqtt', table: 't', status: () => ({ state: 'connected' }) });

describe('bindEvents', () => {
  it('keeps what arrives before the server is ready, latest per tag, and replays it in order', () => {
    const events = new GatewayEvents();
    const binding = bindEvents(events, captureLogger().log);
    events.emit('sourceAdded', handle('a'));
    events.emit('tags', 'a', [{ tag: 'x' }]);
    events.emit('tags', 'a', [{ tag: 'x' }, { tag: 'y' }]);
    events.emit('reading', reading('a', 'x', 1));
    events.emit('reading', reading('a', 'x', 2));
    events.emit('reading', reading('b', 'z', 3));
    events.emit('sourceAdded', handle('gone'));
    events.emit('reading', reading('gone', 'q', 4));
    events.emit('sourceRemoved', 'gone');
    const target = recorder();
    binding.attach(target);
    expect(target.calls).toEqual(['added a', 'tags a x,y', 'reading a/x=2', 'reading b/z=3']);
    events.emit('reading', reading('a', 'y', 5));
    expect(target.calls.at(-1)).toBe('reading a/y=5');
    binding.detach();
    binding.detach();
    events.emit('reading', reading('a', 'y', 6));
    expect(target.calls.at(-1)).toBe('reading a/y=5');
    expect(events.listenerCount('reading')).toBe(0);
  });

  it('keeps a failing target from throwing into the pipeline, and logs it once per interval', () => {
    const events = new GatewayEvents();
    const { log, text } = captureLogger();
    const binding = bindEvents(events, log);
    binding.attach({ ...recorder(), onReading: () => { throw new Error('boom'); } });
    expect(() => {
      events.emit('reading', reading('a', 'x', 1));
      events.emit('reading', reading('a', 'x', 2));
    }).not.toThrow();
    expect(text().match(/failed to apply a gateway event/g)).toHaveLength(1);
    binding.detach();
  });
});
