/** Distinct topics counted one by one; wildcards can bring any number, so the rest share one entry. */
export const MAX_COUNTED_TOPICS = 1_000;
export const OTHER_TOPICS = '(other topics)';

/** A count per topic with a bounded number of keys. */
export class TopicCounts {
  readonly #counts = new Map<string, number>();
  readonly #maxTopics: number;

  constructor(maxTopics = MAX_COUNTED_TOPICS) {
    this.#maxTopics = maxTopics;
  }

  add(topic: string): void {
    const known = this.#counts.get(topic);
    if (known !== undefined) this.#counts.set(topic, known + 1);
    else if (this.#counts.size < this.#maxTopics) this.#counts.set(topic, 1);
    else this.#counts.set(OTHER_TOPICS, (this.#counts.get(OTHER_TOPICS) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
