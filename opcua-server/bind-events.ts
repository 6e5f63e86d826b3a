import type { Logger } from '../common/logger.ts';
import type { Reading } from '../common/reading.ts';
import type { GatewayEvents, SourceHandle } from '../gateway/events.ts';
import { LogLimiter } from '../gateway/pipeline/log-limiter.ts';
import type { TagInfo } from '../gateway/sources/types.ts';

/**
 * Listens to the gateway's events from the first moment, before the OPC UA server has built its
 * address space (which takes a second or two), and hands them to the tree once it is ready.
 * Until then it keeps the latest handle and tag list per source and the latest reading per
 * tag: what the tree would end up with anyway, bounded by the number of tags.
 */
export interface EventTarget {
  addSource(handle: SourceHandle): void;
  removeSource(name: string): void;
  declare(source: string, tags: TagInfo[]): void;
  onReading(reading: Reading): void;
}

export const HANDLER_ERROR_LOG_INTERVAL_MS = 60_000;

export interface EventBinding {
  /** Replays what arrived so far into the target, then passes every event straight on. */
  attach(target: EventTarget): void;
  /** Stops listening. Safe twice. */
  detach(): void;
}

interface Backlog {
  handles: Map<string, SourceHandle>;
  tags: Map<string, TagInfo[]>;
  readings: Map<string, Map<string, Reading>>;
}

export function bindEvents(events: GatewayEvents, log: Logger): EventBinding {
  let target: EventTarget | undefined;
  let backlog: Backlog | undefined = { handles: new Map(), tags: new Map(), readings: new Map() };
  const limiter = new LogLimiter(HANDLER_ERROR_LOG_INTERVAL_MS);

  // A listener that throws would be logged by the pipeline for every reading; catch it here, once a minute per kind.
  const failed = (kind: string, err: unknown) =>
    limiter.hit(kind, (count) => log.warn({ err, event: kind, count }, 'The OPC UA server failed to apply a gateway event; its clients miss this change.'));
  const guard = (kind: string, work: () => void) => {
    try {
      work();
    } catch (err) {
      failed(kind, err);
    }
  };

  const onReading = (reading: Reading) => {
    if (target) {
      // Inline rather than guard(): no closure per reading on the hot path.
      try {
        target.onReading(reading);
      } catch (err) {
        failed('reading', err);
      }
      return;
    }
    let perTag = backlog!.readings.get(reading.source);
    if (!perTag) backlog!.readings.set(reading.source, (perTag = new Map()));
    perTag.set(reading.tag, reading);
  };
  const onTags = (source: string, tags: TagInfo[]) => {
    if (target) return guard('tags', () => target!.declare(source, tags));
    backlog!.tags.set(source, tags);
  };
  const onAdded = (handle: SourceHandle) => {
    if (target) return guard('sourceAdded', () => target!.addSource(handle));
    backlog!.handles.set(handle.name, handle);
  };
  const onRemoved = (name: string) => {
    if (target) return guard('sourceRemoved', () => target!.removeSource(name));
    backlog!.handles.delete(name);
    backlog!.tags.delete(name);
    backlog!.readings.delete(name);
  };

  events.on('reading', onReading);
  events.on('tags', onTags);
  events.on('sourceAdded', onAdded);
  events.on('sourceRemoved', onRemoved);

  let detached = false;
  return {
    attach(t) {
      const held = backlog!;
      backlog = undefined;
      target = t;
      for (const handle of held.handles.values()) guard('sourceAdded', () => t.addSource(handle));
      for (const [source, tags] of held.tags) guard('tags', () => t.declare(source, tags));
      for (const perTag of held.readings.values()) for (const reading of perTag.values()) guard('reading', () => t.onReading(reading));
    },
    detach() {
      if (detached) return;
      detached = true;
      events.off('reading', onReading);
      events.off('tags', onTags);
      events.off('sourceAdded', onAdded);
      events.off('sourceRemoved', onRemoved);
      limiter.flush();
    },
  };
}
