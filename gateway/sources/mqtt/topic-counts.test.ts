import { describe, expect, it } from 'vitest';
import { OTHER_TOPICS, TopicCounts } from './topic-counts.ts';

describe('TopicCounts', () => {
  it('counts per topic, and counts topics past the cap together', () => {
    const counts = new TopicCounts(2);
    for (const topic of ['a', 'b', 'a', 'c', 'd', 'b']) counts.add(topic);
    expect(counts.snapshot()).toEqual({ a: 2, b: 2, [OTHER_TOPICS]: 2 });
  });
});
