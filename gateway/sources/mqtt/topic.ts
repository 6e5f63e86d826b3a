/**
 * MQTT topic filters: validation and matching. Pure.
 *
 * When several subscriptions of one source match a topic, the most specific one wins:
 * filters are compared level by level, a literal level beats '+', and '+' beats '#'; on a
 * tie the subscription listed first wins. A broker delivers one copy of a message to a
 * client however many of its subscriptions overlap, so exactly one must be chosen.
 */

/** MQTT caps a topic at 65,535 bytes of UTF-8. */
export const MAX_TOPIC_BYTES = 65_535;

const LEVEL_RANK_LITERAL = 2;
const LEVEL_RANK_PLUS = 1;
const LEVEL_RANK_HASH = 0;

/** Why a topic filter is invalid, or undefined when it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'expected a topic filter, got an empty string';
  if (Buffer.byteLength(filter, 'utf8') > MAX_TOPIC_BYTES) return `expected at most ${MAX_TOPIC_BYTES} bytes`;
  if (filter.includes('\u0000')) return 'a topic filter cannot contain the NUL character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return "'#' must be a whole level and the last one, as in site/#";
    }
    if (level.includes('+') && level !== '+') return "'+' must be a whole level, as in site/+/temp";
  }
  return undefined;
}

/** True when the topic name matches the filter (MQTT 3.1.1 section 4.7). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Wildcards in the first level do not match topics that start with '$' ($SYS/...).
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Per-level ranks of a filter, for ordering by specificity. */
function ranks(filter: string): number[] {
  return filter.split('/').map((level) => (level === '#' ? LEVEL_RANK_HASH : level === '+' ? LEVEL_RANK_PLUS : LEVEL_RANK_LITERAL));
}

/** Negative when filter a is more specific than b (see the module comment). */
export function compareSpecificity(a: string, b: string): number {
  const ra = ranks(a);
  const rb = ranks(b);
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const diff = (rb[i] as number) - (ra[i] as number);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Finds the subscription for a topic. Built once per source; items keep their config order,
 * so a stable sort leaves ties to the first listed.
 */
export class TopicRouter<T extends { topic: string }> {
  readonly #ordered: T[];

  constructor(items: readonly T[]) {
    this.#ordered = [...items].sort((a, b) => compareSpecificity(a.topic, b.topic));
  }

  match(topic: string): T | undefined {
    return this.#ordered.find((item) => topicMatches(item.topic, topic));
  }
}
