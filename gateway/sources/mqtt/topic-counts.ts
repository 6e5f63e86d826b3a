/** Distinct topics counted one by one; wildcards can bring any number, so the rest share one entry. */
export const MAX_COUNTED_TOPICS = 1_000;
export const OTHER_TOPICS = '(other topics)';

/** The busiest topics of a TopicCounts, for a status page; what is left out is summed. */
export interface TopTopics {
  /** Topic -> count, the highest counts first (ties by topic), at most the number asked for. */
  top: Record<string, number>;
  /** Entries not in top (OTHER_TOPICS counts as one), and the sum of their counts. */
  omittedTopics: number;
  omittedCount: number;
  total: number;
}

/** A count per topic with a bounded number of keys. */
export class TopicCounts {
  readonly #counts = new Map<string, number>();
  readonly #maxTopics: number;
  #total = 0;

  constructor(maxTopics = MAX_COUNTED_TOPICS) {
    this.#maxTopics = maxTopics;
  }

  add(topic: string): void {
    this.#total += 1;
    const known = this.#counts.get(topic);
    if (known !== undefined) this.#counts.set(topic, known + 1);
    else if (this.#counts.size < this.#maxTopics) this.#counts.set(topic, 1);
    else this.#counts.set(OTHER_TOPICS, (this.#counts.get(OTHER_TOPICS) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** The n entries with the highest counts; costs one sort of at most maxTopics entries. */
  top(n: number): TopTopics {
    const sorted = [...this.#counts].sort(([ta, a], [tb, b]) => b - a || (ta < tb ? -1 : ta > tb ? 1 : 0));
    const shown = sorted.slice(0, n);
    const shownCount = shown.reduce((sum, [, c]) => sum + c, 0);
    return { top: Object.fromEntries(shown), omittedTopics: sorted.length - shown.length, omittedCount: this.#total - shownCount, total: this.#total };
  }
}
