import { StatusCodes, type AddressSpace, type Namespace, type UAObject, type UAVariable, type Variant } from 'node-opcua';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../common/logger.ts';
import type { Reading } from '../common/reading.ts';
import type { SourceHandle } from '../gateway/events.ts';
import type { TagInfo } from '../gateway/sources/types.ts';
import { builtinOf, inferKind, kindOf, settledType, toVariant, type VariableKind } from './datatype.ts';
import type { OpcuaServerMetrics } from './metrics.ts';
import { readingDataValue, setDataValue, statusCodeOf } from './update.ts';
import { addTagVariable, variableSignature } from './variables.ts';

/**
 * The tag tree: Objects/<source>/<tag path as folders>/<variable>, built from declared tags and
 * from readings of tags nobody declared, and kept current by every reading.
 *
 * NodeIds are stable strings in the server's namespace: "<source>/<tag>" for a variable, which a
 * SCADA configuration can keep across restarts. Folders get numeric ids. A source's folder is
 * "<source>"; its diagnostics use "<source>#...", which no tag id can equal since source names
 * hold neither '/' nor '#'.
 */
export interface TagEntry {
  variable: UAVariable;
  kind: VariableKind;
  /** The declaration, or undefined for a tag first seen in a reading. */
  info: TagInfo | undefined;
  writable: boolean;
  /** A type mismatch was logged for this tag (once per tag, not per reading). */
  mismatchLogged: boolean;
}

export interface SourceNode {
  name: string;
  folder: UAObject;
  /** Folder path ("a/b") → folder; the source folder itself is "". */
  folders: Map<string, UAObject>;
  tags: Map<string, TagEntry>;
  /** Declared tags whose variables are still to be built (a few milliseconds of work at a time). */
  pending: Map<string, TagInfo>;
  handle: SourceHandle | undefined;
  readings: number;
  lastReadingUs: number;
  typeMismatches: number;
}

export interface TagTreeOptions {
  addressSpace: AddressSpace;
  namespace: Namespace;
  log: Logger;
  metrics: OpcuaServerMetrics;
  /** Whether write-through is configured for this source and tag (the driver's TagInfo.writable is checked besides). */
  writeAllowed: (source: string, tag: string) => boolean;
  /** Installs the write-through handler on a writable variable. */
  makeWritable: (variable: UAVariable) => void;
  /** Called once a source folder exists, so diagnostics can hang their nodes under it. */
  onSourceCreated: (node: SourceNode) => void;
}

const EMPTY_SEGMENT = '_';
/** Longest the tree builds declared variables before letting other work run. */
export const DECLARE_SLICE_MS = 20;

function declaredKind(info: TagInfo): VariableKind {
  return kindOf(info.dataType ?? 'BaseDataType', info.isArray === true);
}

export class TagTree {
  readonly #o: TagTreeOptions;
  readonly #sources = new Map<string, SourceNode>();
  #variables = 0;
  #build: NodeJS.Immediate | undefined;

  constructor(options: TagTreeOptions) {
    this.#o = options;
  }

  get variableCount(): number {
    return this.#variables;
  }

  sources(): IterableIterator<SourceNode> {
    return this.#sources.values();
  }

  source(name: string): SourceNode | undefined {
    return this.#sources.get(name);
  }

  /** A source started: keep its handle (status, write). Its folder appears now if not already. */
  addSource(handle: SourceHandle): void {
    this.#ensureSource(handle.name).handle = handle;
  }

  /** A source stopped: its folder and everything under it go. Connected clients stay connected. */
  removeSource(name: string): void {
    const node = this.#sources.get(name);
    if (!node) return;
    this.#sources.delete(name);
    this.#variables -= node.tags.size;
    this.#o.addressSpace.deleteNode(node.folder);
    this.#o.metrics.variables.set(this.#variables);
    this.#o.log.info({ source: name, variables: node.tags.size }, 'Removed a source folder from the address space.');
  }

  /**
   * A source declared its tags; the list replaces the earlier one. Declared tags no longer
   * listed are removed and changed ones (type, unit, range, description, writability) rebuilt
   * now; new tags are built in slices of DECLARE_SLICE_MS so that tens of thousands of them do
   * not hold up the gateway's event loop. A reading of a tag still waiting is built at once,
   * as declared. Tags only ever seen in readings stay.
   */
  declare(source: string, tags: TagInfo[]): void {
    const node = this.#ensureSource(source);
    node.pending.clear();
    const listed = new Set<string>();
    let added = 0;
    let rebuilt = 0;
    for (const info of tags) {
      listed.add(info.tag);
      const existing = node.tags.get(info.tag);
      if (existing) {
        // Compared with what was declared, not with the type an untyped variable settled on since.
        const writable = info.writable === true && this.#o.writeAllowed(source, info.tag);
        if (existing.info && variableSignature(declaredKind(existing.info), existing.info, existing.writable) === variableSignature(declaredKind(info), info, writable)) {
          existing.info = info;
          continue;
        }
        // Rebuilt at once (they are few), so the NodeId is never missing for a client that uses it.
        this.#removeTag(node, info.tag, existing);
        this.#buildDeclared(node, info.tag, info);
        rebuilt++;
        continue;
      }
      added++;
      node.pending.set(info.tag, info);
    }
    let removed = 0;
    for (const [tag, entry] of node.tags) {
      if (entry.info && !listed.has(tag)) {
        this.#removeTag(node, tag, entry);
        removed++;
      }
    }
    this.#o.metrics.variables.set(this.#variables);
    this.#o.log.info({ source, declared: tags.length, added, rebuilt, removed }, 'A source declared its tags; building their variables.');
    this.#scheduleBuild();
  }

  /** Declared tags whose variables are not built yet. */
  get pendingCount(): number {
    let n = 0;
    for (const node of this.#sources.values()) n += node.pending.size;
    return n;
  }

  /** Stops building declared variables. */
  close(): void {
    if (this.#build) clearImmediate(this.#build);
    this.#build = undefined;
  }

  #scheduleBuild(): void {
    this.#build ??= setImmediate(() => this.#buildSlice());
  }

  #buildSlice(): void {
    this.#build = undefined;
    const deadline = performance.now() + DECLARE_SLICE_MS;
    for (const node of this.#sources.values()) {
      for (const [tag, info] of node.pending) {
        this.#buildDeclared(node, tag, info);
        if (performance.now() > deadline) {
          this.#o.metrics.variables.set(this.#variables);
          this.#scheduleBuild();
          return;
        }
      }
    }
    this.#o.metrics.variables.set(this.#variables);
    this.#o.log.info({ variables: this.#variables }, 'Built every declared variable.');
  }

  #buildDeclared(node: SourceNode, tag: string, info: TagInfo): TagEntry | undefined {
    node.pending.delete(tag);
    try {
      return this.#addTag(node, tag, declaredKind(info), info, info.writable === true && this.#o.writeAllowed(node.name, tag));
    } catch (err) {
      this.#o.log.warn({ err, source: node.name, tag }, 'Could not build the variable of a declared tag; it is left out.');
      return undefined;
    }
  }

  /** Every reading: the variable's value, StatusCode and timestamps. Never throws. */
  onReading(reading: Reading): void {
    const node = this.#sources.get(reading.source) ?? this.#ensureSource(reading.source);
    node.readings++;
    node.lastReadingUs = reading.gatewayTimeUs;
    let entry = node.tags.get(reading.tag);
    if (!entry) {
      const declared = node.pending.get(reading.tag);
      entry = declared ? this.#buildDeclared(node, reading.tag, declared) : this.#addTag(node, reading.tag, inferKind(reading.value), undefined, false);
      if (!entry) return;
      this.#o.metrics.variables.set(this.#variables);
    }
    const conversion = toVariant(entry.kind, reading.value);
    if (conversion.ok) {
      if (entry.kind.type === 'BaseDataType' && reading.value !== null) this.#settle(entry, conversion.variant);
      setDataValue(entry.variable, readingDataValue(conversion.variant, statusCodeOf(reading.quality), reading.sourceTimeUs, reading.gatewayTimeUs));
      return;
    }
    // Keep the variable's type and its last value; tell clients the new one did not fit.
    node.typeMismatches++;
    this.#o.metrics.typeMismatches.inc({ source: node.name });
    const last = entry.variable.readValue().value;
    setDataValue(entry.variable, readingDataValue(last, StatusCodes.BadTypeMismatch, reading.sourceTimeUs, reading.gatewayTimeUs));
    if (!entry.mismatchLogged) {
      entry.mismatchLogged = true;
      this.#o.log.warn(
        { source: node.name, tag: reading.tag, dataType: entry.kind.type, isArray: entry.kind.isArray, reason: conversion.reason },
        "A reading does not fit its variable's DataType; the variable keeps its last value with Bad_TypeMismatch (logged once per tag).",
      );
    }
  }

  /** An untyped variable takes the DataType of its first non-null value, in place: NodeId and subscriptions stay. */
  #settle(entry: TagEntry, variant: Variant): void {
    const type = settledType(variant.dataType);
    if (type === 'BaseDataType') return;
    entry.variable.changeDataType(builtinOf(type), variant);
    entry.kind = kindOf(type, entry.kind.isArray);
  }

  #ensureSource(name: string): SourceNode {
    let node = this.#sources.get(name);
    if (node) return node;
    const folder = this.#o.namespace.addFolder(this.#o.addressSpace.rootFolder.objects, { nodeId: `s=${name}`, browseName: name });
    node = { name, folder, folders: new Map([['', folder]]), tags: new Map(), pending: new Map(), handle: undefined, readings: 0, lastReadingUs: 0, typeMismatches: 0 };
    this.#sources.set(name, node);
    this.#o.onSourceCreated(node);
    this.#o.log.info({ source: name }, 'Added a source folder to the address space.');
    return node;
  }

  #addTag(node: SourceNode, tag: string, kind: VariableKind, info: TagInfo | undefined, writable: boolean): TagEntry {
    const cut = tag.lastIndexOf('/');
    const parent = this.#folder(node, cut < 0 ? '' : tag.slice(0, cut));
    const variable = addTagVariable(this.#o.namespace, {
      parent,
      nodeId: `${node.name}/${tag}`,
      browseName: tag.slice(cut + 1) || EMPTY_SEGMENT,
      kind,
      ...(info ? { info } : {}),
      writable,
    });
    if (writable) this.#o.makeWritable(variable);
    const entry: TagEntry = { variable, kind, info, writable, mismatchLogged: false };
    node.tags.set(tag, entry);
    this.#variables++;
    return entry;
  }

  #removeTag(node: SourceNode, tag: string, entry: TagEntry): void {
    this.#o.addressSpace.deleteNode(entry.variable);
    node.tags.delete(tag);
    this.#variables--;
  }

  /** The folder for a path, creating it and its parents as needed. */
  #folder(node: SourceNode, path: string): UAObject {
    const found = node.folders.get(path);
    if (found) return found;
    const cut = path.lastIndexOf('/');
    const parent = this.#folder(node, cut < 0 ? '' : path.slice(0, cut));
    const folder = this.#o.namespace.addFolder(parent, { browseName: path.slice(cut + 1) || EMPTY_SEGMENT });
    node.folders.set(path, folder);
    return folder;
  }
}
