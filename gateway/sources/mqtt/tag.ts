/**
 * Tag templates: build a reading's tag from the topic it arrived on. Pure.
 *
 * For json and plain payloads, `{topic}` is the whole topic and `{N}` is topic level N,
 * counted from 0. Text outside braces is kept as written. "{1}/{2}" on plant/line1/temp gives
 * "line1/temp".
 *
 * For Sparkplug B, the placeholders are the parts of the Sparkplug topic and the metric:
 * `{group_id}`, `{edge_node_id}`, `{device_id}` and `{metric}`. Node metrics have no device,
 * so empty path segments are dropped: "{group_id}/{edge_node_id}/{device_id}/{metric}" gives
 * "G/E/Temp" for a node metric and "G/E/D/Temp" for a device metric.
 */
export const DEFAULT_TAG_TEMPLATE = '{topic}';
export const DEFAULT_SPARKPLUG_TAG_TEMPLATE = '{group_id}/{edge_node_id}/{device_id}/{metric}';

export const SPARKPLUG_PLACEHOLDERS = ['group_id', 'edge_node_id', 'device_id', 'metric'] as const;
export type SparkplugPlaceholder = (typeof SPARKPLUG_PLACEHOLDERS)[number];
export type SparkplugNames = Record<SparkplugPlaceholder, string>;

/** Which placeholders a template may use: topic levels, or the Sparkplug names. */
export type TemplateKind = 'topic' | 'sparkplug';

export type TagPart = { text: string } | { level: number } | { topic: true } | { name: SparkplugPlaceholder };

const TOKEN = /\{([^{}]*)\}/g;
const LEVEL = /^(0|[1-9][0-9]*)$/;

function placeholder(name: string, kind: TemplateKind): TagPart | string {
  if (kind === 'sparkplug') {
    if ((SPARKPLUG_PLACEHOLDERS as readonly string[]).includes(name)) return { name: name as SparkplugPlaceholder };
    return `unknown placeholder {${name}}: a sparkplug_b tag uses {group_id}, {edge_node_id}, {device_id} and {metric}`;
  }
  if (name === 'topic') return { topic: true };
  if (LEVEL.test(name)) return { level: Number(name) };
  return `unknown placeholder {${name}}: use {topic} or a topic level such as {0}`;
}

/** Parses a template, or returns why it is invalid. */
export function parseTagTemplate(template: string, kind: TemplateKind = 'topic'): TagPart[] | string {
  const parts: TagPart[] = [];
  let last = 0;
  for (const match of template.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ text: template.slice(last, index) });
    const part = placeholder(match[1] ?? '', kind);
    if (typeof part === 'string') return part;
    parts.push(part);
    last = index + match[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  if (parts.some((p) => 'text' in p && (p.text.includes('{') || p.text.includes('}')))) {
    return kind === 'sparkplug' ? 'unbalanced brace: placeholders look like {metric}' : 'unbalanced brace: placeholders look like {topic} or {0}';
  }
  if (parts.length === 0) return 'expected a template, got an empty string';
  if (kind === 'sparkplug' && !parts.some((p) => 'name' in p && p.name === 'metric')) {
    return 'a sparkplug_b tag must contain {metric}, or every metric of a device would share one tag';
  }
  return parts;
}

/** The highest topic level the template names, or -1. */
export function highestLevel(parts: readonly TagPart[]): number {
  return parts.reduce((max, p) => ('level' in p ? Math.max(max, p.level) : max), -1);
}

/** Renders a topic template, or returns why the topic does not fit it. */
export function renderTag(parts: readonly TagPart[], topic: string): { tag: string } | { reason: string } {
  const levels = topic.split('/');
  let tag = '';
  for (const part of parts) {
    if ('text' in part) tag += part.text;
    else if ('topic' in part) tag += topic;
    else if ('level' in part) {
      const level = levels[part.level];
      if (level === undefined) return { reason: `tag level {${part.level}} not in topic (it has ${levels.length} levels)` };
      tag += level;
    }
  }
  if (tag === '') return { reason: 'tag template gave an empty tag' };
  return { tag };
}

/** Renders a Sparkplug template; empty path segments (no device) are dropped. */
export function renderSparkplugTag(parts: readonly TagPart[], names: SparkplugNames): string {
  let tag = '';
  for (const part of parts) {
    if ('text' in part) tag += part.text;
    else if ('name' in part) tag += names[part.name];
  }
  return tag
    .split('/')
    .filter((segment) => segment !== '')
    .join('/');
}
