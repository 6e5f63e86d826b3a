import { QUALITY_GOOD } from '../../../common/quality.ts';
import type { ReadingValue, SourceReading } from '../../../common/reading.ts';
import type { Rejection, TagInfo } from '../types.ts';
import { extractReading, isDecodeFailure, isJsonFailure, parseJsonPayload, type Decoded } from './decode.ts';
import { decodePlainPayload } from './plain.ts';
import { buildRoutes, type JsonRoute, type Route, type SparkplugRoute } from './route.ts';
import { SparkplugHost, type SparkplugStats } from './sparkplug/host.ts';
import { decodeSparkplugPayload } from './sparkplug/proto.ts';
import { parseSparkplugTopic } from './sparkplug/topic.ts';
import { renderTag } from './tag.ts';
import type { MqttSubscription } from './subscription.ts';
import { TopicRouter } from './topic.ts';

/** Why a payload, or one reading of it, was refused: a fixed kind for metrics and the detail. */
export interface Failure {
  kind: string;
  reason: string;
}

export interface MessageMeta {
  qos: 0 | 1 | 2;
  retain: boolean;
  receivedUs: number;
}

/** What one MQTT message gave: readings, rejections, and Sparkplug side effects. */
export interface MessageOutcome {
  readings: SourceReading[];
  rejections: Rejection[];
  /** A Sparkplug Rebirth request (NCMD) to publish. */
  publish?: { topic: string; payload: Uint8Array };
  /** A Sparkplug sequence number was not the one expected. */
  seqGap?: { edgeNode: string; expected: number; got: number };
  /** The declared tags changed: call declaredTags() and describe them again. */
  tagsChanged: boolean;
}

/**
 * Turns MQTT messages into readings for one source: picks the subscription a topic takes,
 * decodes its payload by the subscription's format, and renders tags. No I/O and no clock
 * (the time of receipt comes in with each message); the only state is what Sparkplug BIRTHs
 * taught it.
 */
export class MessageHandler {
  readonly #source: string;
  readonly #router: TopicRouter<Route>;
  readonly #fixedTags: TagInfo[];
  readonly #sparkplug = new SparkplugHost();
  /** Per topic: its route and rendered tags, so a topic seen before is not matched again. */
  readonly #topics = new Map<string, TopicEntry>();

  constructor(source: string, subscriptions: readonly MqttSubscription[]) {
    this.#source = source;
    const routes = buildRoutes(subscriptions);
    this.#router = new TopicRouter(routes);
    this.#fixedTags = fixedTags(routes);
  }

  handle(topic: string, payload: Buffer, meta: MessageMeta): MessageOutcome {
    const out: MessageOutcome = { readings: [], rejections: NO_REJECTIONS, tagsChanged: false };
    const entry = this.#entry(topic);
    if (!entry) {
      rejectText(out, topic, payload, NO_SUBSCRIPTION);
      return out;
    }
    const route = entry.route;
    if (route.format === 'sparkplug_b') {
      this.#handleSparkplug(route, topic, payload, meta, out);
    } else if (route.format === 'plain') {
      const decoded = decodePlainPayload(payload, route.plainType);
      if (isDecodeFailure(decoded)) rejectText(out, topic, payload, decoded);
      else this.#push(out, entry.tags[0] as TagOrFailure, topic, payload, decoded, meta);
    } else {
      this.#handleJson(entry, topic, payload, meta, out);
    }
    return out;
  }

  /** Tags known ahead of readings: fixed topics from config, and Sparkplug metrics from BIRTHs. */
  declaredTags(): TagInfo[] {
    return [...this.#fixedTags, ...this.#sparkplug.tags()];
  }

  sparkplugStats(): SparkplugStats {
    return this.#sparkplug.stats();
  }

  #entry(topic: string): TopicEntry | undefined {
    const known = this.#topics.get(topic);
    if (known) return known;
    const route = this.#router.match(topic);
    if (!route) return undefined;
    const templates = route.format === 'json' ? route.fields.map((f) => f.tagParts) : [route.tagParts];
    const entry: TopicEntry = { route, tags: route.format === 'sparkplug_b' ? [] : templates.map((parts) => renderTag(parts, topic)) };
    // Wildcards can bring any number of topics: start over rather than grow without bound.
    if (this.#topics.size >= MAX_CACHED_TOPICS) this.#topics.clear();
    this.#topics.set(topic, entry);
    return entry;
  }

  #handleJson(entry: TopicEntry, topic: string, payload: Buffer, meta: MessageMeta, out: MessageOutcome): void {
    const parsed = parseJsonPayload(payload);
    if (isJsonFailure(parsed)) {
      rejectText(out, topic, payload, parsed);
      return;
    }
    const fields = (entry.route as JsonRoute).fields;
    for (let i = 0; i < fields.length; i++) {
      const decoded = extractReading(parsed.doc, (fields[i] as JsonRoute['fields'][number]).spec);
      if (isDecodeFailure(decoded)) rejectText(out, topic, payload, decoded);
      else this.#push(out, entry.tags[i] as TagOrFailure, topic, payload, decoded, meta);
    }
  }

  #handleSparkplug(route: SparkplugRoute, topic: string, payload: Buffer, meta: MessageMeta, out: MessageOutcome): void {
    const t = parseSparkplugTopic(topic);
    if ('passOver' in t) return;
    if ('reason' in t) {
      rejectBinary(out, topic, payload, { kind: 'invalid_topic', reason: t.reason });
      return;
    }
    const decoded = decodeSparkplugPayload(payload);
    if ('reason' in decoded) {
      rejectBinary(out, topic, payload, { kind: 'invalid_sparkplug', reason: decoded.reason });
      return;
    }
    const result = this.#sparkplug.handle(t, decoded.payload, route.host, { source: this.#source, topic, ...meta });
    out.readings = result.readings;
    for (const failure of result.failures) rejectBinary(out, topic, payload, failure);
    if (result.rebirth) out.publish = result.rebirth;
    if (result.seqGap) out.seqGap = result.seqGap;
    out.tagsChanged = result.tagsChanged;
  }

  #push(out: MessageOutcome, tag: TagOrFailure, topic: string, payload: Buffer, decoded: Decoded, meta: MessageMeta): void {
    if ('reason' in tag) rejectText(out, topic, payload, { kind: 'bad_tag', reason: tag.reason });
    else out.readings.push(toReading(this.#source, tag.tag, decoded.value, decoded, topic, meta));
  }
}

/** Topics remembered with their route and tags; past this many, the memory starts over. */
export const MAX_CACHED_TOPICS = 10_000;
const NO_SUBSCRIPTION: Failure = { kind: 'no_subscription', reason: 'no subscription matches the topic' };
/** Most messages reject nothing: they share this empty list, replaced on the first rejection. */
const NO_REJECTIONS = Object.freeze([]) as unknown as Rejection[];

function rejections(out: MessageOutcome): Rejection[] {
  if (out.rejections === NO_REJECTIONS) out.rejections = [];
  return out.rejections;
}

type TagOrFailure = { tag: string } | { reason: string };

interface TopicEntry {
  route: Route;
  /** One per reading the route gives (json fields, or the one plain tag); none for Sparkplug. */
  tags: TagOrFailure[];
}

function rejectText(out: MessageOutcome, topic: string, payload: Buffer, f: Failure): void {
  rejections(out).push({ origin: topic, kind: f.kind, reason: f.reason, payload: payloadText(payload) });
}

/** Sparkplug payloads are protobuf: kept as base64. */
function rejectBinary(out: MessageOutcome, topic: string, payload: Buffer, f: Failure): void {
  rejections(out).push({ origin: topic, kind: f.kind, reason: f.reason, payload: payload.toString('base64') });
}

function toReading(source: string, tag: string, value: ReadingValue, decoded: Decoded, topic: string, meta: MessageMeta): SourceReading {
  return {
    source,
    tag,
    value,
    quality: decoded.quality ?? QUALITY_GOOD,
    sourceTimeUs: decoded.sourceTimeUs ?? meta.receivedUs,
    gatewayTimeUs: meta.receivedUs,
    details: { protocol: 'mqtt', topic, qos: meta.qos, retain: meta.retain },
  };
}

/** Tags of subscriptions whose topic has no wildcard: known from config alone. */
function fixedTags(routes: readonly Route[]): TagInfo[] {
  const tags: TagInfo[] = [];
  for (const route of routes) {
    if (route.format === 'sparkplug_b' || route.topic.includes('+') || route.topic.includes('#')) continue;
    if (route.format === 'plain') {
      const tag = renderTag(route.tagParts, route.topic);
      if ('tag' in tag) tags.push({ tag: tag.tag, dataType: route.plainType === 'number' ? 'Double' : route.plainType === 'boolean' ? 'Boolean' : 'String' });
      continue;
    }
    for (const field of route.fields) {
      const tag = renderTag(field.tagParts, route.topic);
      if ('tag' in tag) tags.push({ tag: tag.tag });
    }
  }
  return tags;
}

/** The payload as text when it is valid UTF-8, else base64, for a rejection record. */
export function payloadText(payload: Buffer): string {
  try {
    return utf8.decode(payload);
  } catch {
    return payload.toString('base64');
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
