import { QUALITY_BAD_NO_COMMUNICATION, QUALITY_GOOD } from '../../../../common/quality.ts';
import type { ReadingValue, SourceReading } from '../../../../common/reading.ts';
import type { TagInfo } from '../../types.ts';
import { renderSparkplugTag, type TagPart } from '../tag.ts';
import { BD_SEQ_METRIC, birthMetricProblem, leavesOf, sameTagInfo, tagInfoOf, type MetricDef } from './metrics.ts';
import { carried, DataType, encodePayload, longToNumber, type LongLike, type ProtoMetric, type ProtoPayload } from './proto.ts';
import { nodeCommandTopic, type SparkplugTopic } from './topic.ts';
import { decodeMetricValue, isSupportedDatatype } from './value.ts';

/**
 * The host-application side of Sparkplug B: learns metric names, datatypes and aliases from
 * NBIRTH/DBIRTH per edge node and device, reads NDATA/DDATA with them, checks sequence
 * numbers, and marks metrics Bad on NDEATH/DDEATH. Pure apart from its own state: the time
 * comes in with each message, and a Rebirth request is returned for the driver to publish.
 */

/** seq runs 0-255 and wraps (Sparkplug 3.0, 6.4.3). */
const SEQ_MODULUS = 256;
const US_PER_MS = 1000;
export const REBIRTH_METRIC = 'Node Control/Rebirth';

export interface HostRoute {
  tagParts: TagPart[];
  rebirth: boolean;
  rebirthMinIntervalMs: number;
}

export interface HostMeta {
  source: string;
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  receivedUs: number;
}

export interface HostResult {
  readings: SourceReading[];
  failures: Array<{ kind: string; reason: string }>;
  /** A Rebirth request (NCMD) to publish. */
  rebirth?: { topic: string; payload: Uint8Array };
  /** Set when a sequence number was not the one expected. */
  seqGap?: { edgeNode: string; expected: number; got: number };
  /** The declared tags changed (see tags()). */
  tagsChanged: boolean;
}

export interface SparkplugStats {
  edgeNodes: number;
  online: number;
  seqGaps: number;
  rebirthRequests: number;
  /** NDEATHs ignored because their bdSeq belonged to an older session. */
  staleDeaths: number;
}

interface NodeState {
  online: boolean;
  bdSeq?: number;
  seq?: number;
  metrics: Map<string, MetricDef>;
  devices: Map<string, Map<string, MetricDef>>;
  /** Aliases are unique across an edge node and its devices. */
  aliases: Map<number, { device: string | undefined; def: MetricDef }>;
}

export class SparkplugHost {
  readonly #nodes = new Map<string, NodeState>();
  readonly #lastRebirthUs = new Map<string, number>();
  readonly #tags = new Map<string, TagInfo>();
  #seqGaps = 0;
  #rebirths = 0;
  #staleDeaths = 0;

  handle(t: SparkplugTopic, payload: ProtoPayload, route: HostRoute, meta: HostMeta): HostResult {
    const r: HostResult = { readings: [], failures: [], tagsChanged: false };
    const key = `${t.group}/${t.node}`;
    const payloadUs = msToUs(longToNumber(carried(payload, 'timestamp') as LongLike | null | undefined)) ?? meta.receivedUs;
    if (t.type === 'NBIRTH') {
      const node: NodeState = { online: true, metrics: new Map(), devices: new Map(), aliases: new Map() };
      this.#nodes.set(key, node);
      node.seq = longToNumber(carried(payload, 'seq') as LongLike | null | undefined);
      node.metrics = this.#birth(node, t, undefined, payload, route, meta, payloadUs, r);
      return r;
    }
    const node = this.#nodes.get(key);
    if (t.type === 'NDEATH') {
      if (node?.online) this.#nodeDeath(node, payload, meta, r);
      return r;
    }
    if (!node?.online) {
      r.failures.push({ kind: 'no_birth', reason: `${t.type} from edge node ${key} before its NBIRTH` });
      this.#requestRebirth(t, route, meta, r);
      return r;
    }
    this.#checkSeq(node, key, payload, route, t, meta, r);
    const device = t.device as string;
    if (t.type === 'NDATA') {
      this.#data(node, t, undefined, node.metrics, payload, route, meta, payloadUs, r);
    } else if (t.type === 'DBIRTH') {
      this.#forgetDevice(node, device);
      node.devices.set(device, this.#birth(node, t, device, payload, route, meta, payloadUs, r));
    } else {
      const defs = node.devices.get(device);
      if (defs && t.type === 'DDATA') this.#data(node, t, device, defs, payload, route, meta, payloadUs, r);
      else if (defs) {
        r.readings.push(...deathReadings(defs, meta, payloadUs));
        this.#forgetDevice(node, device);
      } else if (t.type === 'DDATA') {
        r.failures.push({ kind: 'no_birth', reason: `DDATA from device ${key}/${device} before its DBIRTH` });
        this.#requestRebirth(t, route, meta, r);
      }
    }
    return r;
  }

  /** Every tag a BIRTH (or a DATA metric with a datatype) has declared so far. */
  tags(): TagInfo[] {
    return [...this.#tags.values()];
  }

  stats(): SparkplugStats {
    const online = [...this.#nodes.values()].filter((n) => n.online).length;
    return { edgeNodes: this.#nodes.size, online, seqGaps: this.#seqGaps, rebirthRequests: this.#rebirths, staleDeaths: this.#staleDeaths };
  }

  #birth(
    node: NodeState,
    t: SparkplugTopic,
    device: string | undefined,
    payload: ProtoPayload,
    route: HostRoute,
    meta: HostMeta,
    payloadUs: number,
    r: HostResult,
  ): Map<string, MetricDef> {
    const defs = new Map<string, MetricDef>();
    (payload.metrics ?? []).forEach((metric, index) => {
      if (device === undefined && metric.name === BD_SEQ_METRIC) {
        node.bdSeq = bdSeqOf(metric);
        return;
      }
      const problem = birthMetricProblem(metric, index);
      if (problem) {
        r.failures.push({ kind: 'invalid_birth', reason: problem });
        return;
      }
      const def = this.#define(defs, t, device, metric.name as string, metric.datatype as number, metric, route, r);
      const alias = longToNumber(carried(metric, 'alias') as LongLike | null | undefined);
      if (alias !== undefined) node.aliases.set(alias, { device, def });
      this.#readLeaves(def, metric, defs, t, device, route, meta, payloadUs, r);
    });
    return defs;
  }

  #data(
    node: NodeState,
    t: SparkplugTopic,
    device: string | undefined,
    defs: Map<string, MetricDef>,
    payload: ProtoPayload,
    route: HostRoute,
    meta: HostMeta,
    payloadUs: number,
    r: HostResult,
  ): void {
    const where = device === undefined ? `NBIRTH of edge node ${t.group}/${t.node}` : `DBIRTH of device ${t.group}/${t.node}/${device}`;
    let rebirth = false;
    for (const metric of payload.metrics ?? []) {
      const alias = longToNumber(carried(metric, 'alias') as LongLike | null | undefined);
      let def = metric.name ? defs.get(metric.name) : undefined;
      if (!metric.name) {
        const known = alias === undefined ? undefined : node.aliases.get(alias);
        if (alias === undefined) {
          r.failures.push({ kind: 'invalid_metric', reason: 'a metric has neither a name nor an alias' });
          continue;
        }
        if (!known || known.device !== device) {
          r.failures.push({ kind: 'unknown_alias', reason: `alias ${alias} is not declared in the ${where}` });
          rebirth = true;
          continue;
        }
        def = known.def;
      } else if (!def) {
        if (!metric.datatype || !isSupportedDatatype(metric.datatype)) {
          r.failures.push({ kind: 'unknown_metric', reason: `metric '${metric.name}' is not in the ${where} and carries no usable datatype` });
          rebirth = true;
          continue;
        }
        def = this.#define(defs, t, device, metric.name, metric.datatype, metric, route, r);
      }
      this.#readLeaves(def, metric, defs, t, device, route, meta, payloadUs, r);
    }
    if (rebirth) this.#requestRebirth(t, route, meta, r);
  }

  /** Reads a metric's value, or each member of a template instance, as readings. */
  #readLeaves(
    def: MetricDef,
    metric: ProtoMetric,
    defs: Map<string, MetricDef>,
    t: SparkplugTopic,
    device: string | undefined,
    route: HostRoute,
    meta: HostMeta,
    payloadUs: number,
    r: HostResult,
  ): void {
    const metricUs = msToUs(longToNumber(carried(metric, 'timestamp') as LongLike | null | undefined)) ?? payloadUs;
    for (const leaf of leavesOf(def.name, metric, metric.datatype || def.datatype)) {
      let leafDef = leaf.name === def.name ? def : defs.get(leaf.name);
      const declared = leaf.metric.datatype || leafDef?.datatype;
      if (!declared) {
        r.failures.push({ kind: 'unknown_metric', reason: `template member '${leaf.name}' has no datatype` });
        continue;
      }
      leafDef ??= this.#define(defs, t, device, leaf.name, declared, leaf.metric, route, r);
      const value = decodeMetricValue(leaf.metric, declared);
      if (!('value' in value)) {
        r.failures.push({ kind: value.kind, reason: `metric '${leaf.name}': ${value.reason}` });
        continue;
      }
      const us = msToUs(longToNumber(carried(leaf.metric, 'timestamp') as LongLike | null | undefined)) ?? metricUs;
      r.readings.push(reading(meta, leafDef.tag, value.value, QUALITY_GOOD, us));
    }
  }

  #define(
    defs: Map<string, MetricDef>,
    t: SparkplugTopic,
    device: string | undefined,
    name: string,
    datatype: number,
    metric: ProtoMetric,
    route: HostRoute,
    r: HostResult,
  ): MetricDef {
    const tag = renderSparkplugTag(route.tagParts, { group_id: t.group, edge_node_id: t.node, device_id: device ?? '', metric: name });
    const info = tagInfoOf(tag, datatype, metric.properties);
    const def = { name, datatype, tag, info };
    defs.set(name, def);
    if (datatype !== DataType.Template) {
      const known = this.#tags.get(tag);
      if (!known || !sameTagInfo(known, info)) {
        this.#tags.set(tag, info);
        r.tagsChanged = true;
      }
    }
    return def;
  }

  #nodeDeath(node: NodeState, payload: ProtoPayload, meta: HostMeta, r: HostResult): void {
    const bdSeqMetric = (payload.metrics ?? []).find((m) => m.name === BD_SEQ_METRIC);
    const bdSeq = bdSeqMetric ? bdSeqOf(bdSeqMetric) : undefined;
    if (bdSeq !== undefined && node.bdSeq !== undefined && bdSeq !== node.bdSeq) {
      this.#staleDeaths++;
      return;
    }
    node.online = false;
    // An NDEATH is usually the will registered when the node connected: its timestamp is
    // that old, so the death is dated when it arrived.
    r.readings.push(...deathReadings(node.metrics, meta, meta.receivedUs));
    for (const defs of node.devices.values()) r.readings.push(...deathReadings(defs, meta, meta.receivedUs));
    node.devices.clear();
    node.aliases.clear();
  }

  #forgetDevice(node: NodeState, device: string): void {
    node.devices.delete(device);
    for (const [alias, entry] of node.aliases) if (entry.device === device) node.aliases.delete(alias);
  }

  #checkSeq(node: NodeState, key: string, payload: ProtoPayload, route: HostRoute, t: SparkplugTopic, meta: HostMeta, r: HostResult): void {
    const seq = longToNumber(carried(payload, 'seq') as LongLike | null | undefined);
    if (seq === undefined) return;
    if (node.seq !== undefined) {
      const expected = (node.seq + 1) % SEQ_MODULUS;
      if (seq !== expected) {
        this.#seqGaps++;
        r.seqGap = { edgeNode: key, expected, got: seq };
        this.#requestRebirth(t, route, meta, r);
      }
    }
    node.seq = seq;
  }

  #requestRebirth(t: SparkplugTopic, route: HostRoute, meta: HostMeta, r: HostResult): void {
    if (!route.rebirth || r.rebirth) return;
    const key = `${t.group}/${t.node}`;
    const last = this.#lastRebirthUs.get(key);
    if (last !== undefined && meta.receivedUs - last < route.rebirthMinIntervalMs * US_PER_MS) return;
    this.#lastRebirthUs.set(key, meta.receivedUs);
    this.#rebirths++;
    const payload = encodePayload({
      timestamp: Math.floor(meta.receivedUs / US_PER_MS),
      metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }],
    });
    r.rebirth = { topic: nodeCommandTopic(t.group, t.node), payload };
  }
}

function bdSeqOf(metric: ProtoMetric): number | undefined {
  return longToNumber(metric.longValue as LongLike | null | undefined) ?? metric.intValue ?? undefined;
}

function msToUs(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms * US_PER_MS;
}

function deathReadings(defs: Map<string, MetricDef>, meta: HostMeta, us: number): SourceReading[] {
  const readings: SourceReading[] = [];
  for (const def of defs.values()) {
    if (def.datatype !== DataType.Template) readings.push(reading(meta, def.tag, null, QUALITY_BAD_NO_COMMUNICATION, us));
  }
  return readings;
}

function reading(meta: HostMeta, tag: string, value: ReadingValue, quality: number, sourceTimeUs: number): SourceReading {
  return {
    source: meta.source,
    tag,
    value,
    quality,
    sourceTimeUs,
    gatewayTimeUs: meta.receivedUs,
    details: { protocol: 'mqtt', topic: meta.topic, qos: meta.qos, retain: meta.retain },
  };
}
