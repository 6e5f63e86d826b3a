import type { OpcuaFilter } from './config.ts';

/** How one node is monitored; nodes with the same settings share one object. */
export interface ItemSettings {
  samplingIntervalMs: number;
  queueSize: number;
  discardOldest: boolean;
  filter: OpcuaFilter | undefined;
}

/** What resolution found for one node, before it joins the table. */
export interface NodeEntry {
  nodeId: string;
  tag: string;
  browsePath: string | undefined;
  group: number;
  settings: ItemSettings;
  writable: boolean;
}

const FLAG_WRITABLE = 1;
const FLAG_ARRAY = 2;
/** dataType code for "not known": OPC UA's Null. */
export const UNKNOWN_DATA_TYPE = 0;

/**
 * The resolved nodes of a source, one column per field (no object per node): index i is node
 * i, and its monitored item's client handle is i + 1. A 50,000-node source holds three
 * strings and a few bytes per node here.
 */
export class NodeTable {
  readonly nodeIds: string[] = [];
  readonly tags: string[] = [];
  readonly browsePaths: (string | undefined)[] = [];
  readonly groups: number[] = [];
  readonly #settingIndex: number[] = [];
  readonly settings: ItemSettings[] = [];
  readonly #settingsIds = new Map<ItemSettings, number>();
  #flags = new Uint8Array(0);
  #dataTypes = new Uint8Array(0);
  readonly #byNodeId = new Map<string, number>();
  readonly #writableByTag = new Map<string, number>();
  readonly #tagSet = new Set<string>();

  get size(): number {
    return this.nodeIds.length;
  }

  /** Adds a node; returns its index, or the index of the node already there with that NodeId. */
  add(e: NodeEntry): { index: number; duplicateOf?: number; tagRenamed?: boolean } {
    const existing = this.#byNodeId.get(e.nodeId);
    if (existing !== undefined) return { index: existing, duplicateOf: existing };
    const index = this.nodeIds.length;
    let tag = e.tag;
    const tagRenamed = this.#tagSet.has(tag);
    // Two different nodes with one tag would mix their readings: the later one says which node it is.
    if (tagRenamed) tag = `${e.tag}@${e.nodeId}`;
    this.#tagSet.add(tag);
    this.nodeIds.push(e.nodeId);
    this.tags.push(tag);
    this.browsePaths.push(e.browsePath);
    this.groups.push(e.group);
    let s = this.#settingsIds.get(e.settings);
    if (s === undefined) {
      s = this.settings.push(e.settings) - 1;
      this.#settingsIds.set(e.settings, s);
    }
    this.#settingIndex.push(s);
    this.#byNodeId.set(e.nodeId, index);
    if (e.writable) this.#writableByTag.set(tag, index);
    this.#ensureCapacity(index + 1);
    this.#flags[index] = e.writable ? FLAG_WRITABLE : 0;
    return { index, ...(tagRenamed ? { tagRenamed } : {}) };
  }

  settingsOf(index: number): ItemSettings {
    const s = this.settings[this.#settingIndex[index] ?? 0];
    if (!s) throw new Error(`node ${index} has no settings`);
    return s;
  }

  writableIndex(tag: string): number | undefined {
    return this.#writableByTag.get(tag);
  }

  hasTag(tag: string): boolean {
    return this.#tagSet.has(tag);
  }

  isWritable(index: number): boolean {
    return ((this.#flags[index] ?? 0) & FLAG_WRITABLE) !== 0;
  }

  /** Records the builtin DataType (node-opcua DataType code) and array-ness read from the server. */
  setType(index: number, dataType: number, isArray: boolean): void {
    this.#dataTypes[index] = dataType;
    this.#flags[index] = ((this.#flags[index] ?? 0) & ~FLAG_ARRAY) | (isArray ? FLAG_ARRAY : 0);
  }

  dataTypeOf(index: number): number {
    return this.#dataTypes[index] ?? UNKNOWN_DATA_TYPE;
  }

  isArray(index: number): boolean {
    return ((this.#flags[index] ?? 0) & FLAG_ARRAY) !== 0;
  }

  /** Same nodes in the same order: handles and subscriptions stay valid. */
  sameNodesAs(other: NodeTable | undefined): boolean {
    if (!other || other.size !== this.size) return false;
    for (let i = 0; i < this.size; i++) {
      if (other.nodeIds[i] !== this.nodeIds[i] || other.tags[i] !== this.tags[i] || other.groups[i] !== this.groups[i]) return false;
    }
    return true;
  }

  /** Node indexes of a group, in table order. */
  indexesOfGroup(group: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.groups.length; i++) if (this.groups[i] === group) out.push(i);
    return out;
  }

  #ensureCapacity(n: number): void {
    if (n <= this.#flags.length) return;
    const size = Math.max(n, this.#flags.length * 2, 16);
    const flags = new Uint8Array(size);
    flags.set(this.#flags);
    this.#flags = flags;
    const types = new Uint8Array(size);
    types.set(this.#dataTypes);
    this.#dataTypes = types;
  }
}
