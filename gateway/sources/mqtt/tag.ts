/**
 * Tag templates: build a reading's tag from the topic it arrived on. Pure.
 *
 * `{topic}` is the whole topic; `{N}` is topic level N, counted from 0. Text outside braces
 * is kept as written. "{1}/{2}" on plant/line1/temp gives "line1/temp".
 */
export const DEFAULT_TAG_TEMPLATE = '{topic}';

export type TagPart = { text: string } | { level: number } | { topic: true };

const TOKEN = /\{([^{}]*)\}/g;
const LEVEL = /^(0|[1-9][0-9]*)$/;

/** Parses a template, or returns why it is invalid. */
export function parseTagTemplate(template: string): TagPart[] | string {
  const parts: TagPart[] = [];
  let last = 0;
  for (const match of template.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ text: template.slice(last, index) });
    const name = match[1] ?? '';
    if (name === 'topic') parts.push({ topic: true });
    else if (LEVEL.test(name)) parts.push({ level: Number(name) });
    else return `unknown placeholder {${name}}: use {topic} or a topic level such as {0}`;
    last = index + match[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  if (parts.some((p) => 'text' in p && (p.text.includes('{') || p.text.includes('}')))) {
    return 'unbalanced brace: placeholders look like {topic} or {0}';
  }
  if (parts.length === 0) return 'expected a template, got an empty string';
  return parts;
}

/** The highest topic level the template names, or -1. */
export function highestLevel(parts: readonly TagPart[]): number {
  return parts.reduce((max, p) => ('level' in p ? Math.max(max, p.level) : max), -1);
}

/** Renders a tag, or returns why the topic does not fit the template. */
export function renderTag(parts: readonly TagPart[], topic: string): { tag: string } | { reason: string } {
  const levels = topic.split('/');
  let tag = '';
  for (const part of parts) {
    if ('text' in part) tag += part.text;
    else if ('topic' in part) tag += topic;
    else {
      const level = levels[part.level];
      if (level === undefined) return { reason: `tag level {${part.level}} not in topic (it has ${levels.length} levels)` };
      tag += level;
    }
  }
  if (tag === '') return { reason: 'tag template gave an empty tag' };
  return { tag };
}
