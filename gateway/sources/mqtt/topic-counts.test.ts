import { describe, expect, it } from 'vitest';
import { OTHER_TOPICS, TopicCounts } from './topic-counts.ts';

describe('TopicCounts', () => {
  it('counts per topic, and counts topics past the cap together', () => {
    const counts = new TopicCounts(2);
    for (const topic of ['a', 'b', 'a', 'c', 'd', 'b']) counts.add(topic);
    expect(counts.snapshot()).toEqual({ a: 2, b: 2, [OTHER_TOPICS]: 2 });
  });

  it('lists the busiest topics first and sums what it leaves out', () => {
    const counts = new TopicCounts(10);
    for (const topic of ['x', 'y', 'y', 'z', 'z', 'z', 'w']) counts.add(topic);
    expect(counts.top(2)).toEqual({ top: { z: 3, y: 2 }, omittedTopics: 2, omittedCount: 2, total: 7 });
    expect(counts.top(10)).toEqual({ top: { z: 3, y: 2, w: 1, x: 1 }, omittedTopics: 0, omittedCount: 0, total: 7 });
    expect(new TopicCounts().top(5)).toEqual({ top: {}, omittedTopics: 0, omittedCount: 0, total: 0 });
  });
});
