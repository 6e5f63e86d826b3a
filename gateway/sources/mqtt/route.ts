import type { DecodeSpec } from './decode.ts';
import { DEFAULT_PLAIN_TYPE, type PlainType } from './plain.ts';
import type { HostRoute } from './sparkplug/host.ts';
import { DEFAULT_REBIRTH_MIN_INTERVAL_MS, DEFAULT_VALUE_PATH, fieldTagDefault, type MqttSubscription } from './subscription.ts';
import { DEFAULT_SPARKPLUG_TAG_TEMPLATE, DEFAULT_TAG_TEMPLATE, parseTagTemplate, type TagPart, type TemplateKind } from './tag.ts';

/**
 * A subscription compiled once at start: its format, tag templates parsed, and every default
 * filled in, so that handling a message looks nothing up twice.
 */
interface RouteBase {
  topic: string;
  qos: 0 | 1 | 2;
  /** The subscription's own tag template (json fields have their own). */
  tagParts: TagPart[];
}

export interface JsonRoute extends RouteBase {
  format: 'json';
  /** One per reading a payload gives: the subscription itself, or each of its fields. */
  fields: Array<{ spec: DecodeSpec; tagParts: TagPart[] }>;
}

export interface PlainRoute extends RouteBase {
  format: 'plain';
  plainType: PlainType;
}

export interface SparkplugRoute extends RouteBase {
  format: 'sparkplug_b';
  host: HostRoute;
}

export type Route = JsonRoute | PlainRoute | SparkplugRoute;

/** Compiles validated subscriptions. Throws only on a template the schema let through. */
export function buildRoutes(subscriptions: readonly MqttSubscription[]): Route[] {
  return subscriptions.map((s) => {
    const base = { topic: s.topic, qos: s.qos };
    if (s.format === 'sparkplug_b') {
      const tagParts = parse(s.tag ?? DEFAULT_SPARKPLUG_TAG_TEMPLATE, 'sparkplug');
      return {
        ...base,
        format: 'sparkplug_b',
        tagParts,
        host: { tagParts, rebirth: s.rebirth ?? false, rebirthMinIntervalMs: s.rebirth_min_interval_ms ?? DEFAULT_REBIRTH_MIN_INTERVAL_MS },
      };
    }
    const tagParts = parse(s.tag ?? DEFAULT_TAG_TEMPLATE, 'topic');
    if (s.format === 'plain') return { ...base, format: 'plain', tagParts, plainType: s.plain_type ?? DEFAULT_PLAIN_TYPE };
    const shared = { timestamp_path: s.timestamp_path, quality_path: s.quality_path, quality_numbers: s.quality_numbers };
    const fields = s.fields
      ? s.fields.map((f) => ({
          spec: {
            ...shared,
            value_path: f.value_path,
            timestamp_path: f.timestamp_path ?? s.timestamp_path,
            quality_path: f.quality_path ?? s.quality_path,
          },
          tagParts: parse(f.tag ?? fieldTagDefault(f.value_path), 'topic'),
        }))
      : [{ spec: { ...shared, value_path: s.value_path ?? DEFAULT_VALUE_PATH }, tagParts }];
    return { ...base, format: 'json', tagParts, fields };
  });
}

function parse(template: string, kind: TemplateKind): TagPart[] {
  const parts = parseTagTemplate(template, kind);
  if (typeof parts === 'string') throw new Error(`tag template ${template}: ${parts}`);
  return parts;
}
