import type { OpcuaFilter, OpcuaGroup } from './config.ts';
import type { ItemSettings } from './nodes.ts';

/** The per-node keys that override a group's monitoring settings. */
export interface ItemOverrides {
  sampling_interval_ms?: number | undefined;
  queue_size?: number | undefined;
  discard_oldest?: boolean | undefined;
  filter?: OpcuaFilter | undefined;
}

/**
 * Hands out ItemSettings so that nodes with equal settings share one object: a group's
 * defaults are one object, and each distinct override combination one more. Pure.
 */
export class SettingsPool {
  readonly #byKey = new Map<string, ItemSettings>();
  readonly #groupDefaults = new Map<OpcuaGroup, ItemSettings>();

  forGroup(group: OpcuaGroup, overrides: ItemOverrides = {}): ItemSettings {
    const plain = overrides.sampling_interval_ms === undefined && overrides.queue_size === undefined && overrides.discard_oldest === undefined && overrides.filter === undefined;
    const cached = plain ? this.#groupDefaults.get(group) : undefined;
    if (cached) return cached;
    const settings: ItemSettings = {
      samplingIntervalMs: overrides.sampling_interval_ms ?? group.sampling_interval_ms,
      queueSize: overrides.queue_size ?? group.queue_size,
      discardOldest: overrides.discard_oldest ?? group.discard_oldest,
      filter: overrides.filter ?? group.filter,
    };
    const key = JSON.stringify(settings);
    const shared = this.#byKey.get(key) ?? settings;
    this.#byKey.set(key, shared);
    if (plain) this.#groupDefaults.set(group, shared);
    return shared;
  }
}
