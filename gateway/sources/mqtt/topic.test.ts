import { describe, expect, it } from 'vitest';
import { TopicRouter, topicFilterProblem, topicMatches } from './topic.ts';

describe('topicMatches', () => {
  it.each([
    ['a/b/c', 'a/b/c', true],
    ['a/b/c', 'a/b/d', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/x/c', false],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'b/c', false],
    ['#', 'a/b', true],
    ['+/+', 'a/b', true],
    ['+/+', 'a/b/c', false],
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['a/b', 'a/b/c', false],
  ])('filter %s on topic %s matches: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('topicFilterProblem', () => {
  it.each(['a/b', 'a/+/c', 'a/#', '#', '+', '/a', 'a//b', '$SYS/#'])('accepts %s', (filter) => {
    expect(topicFilterProblem(filter)).toBeUndefined();
  });
  it.each([
    ['', 'expected a topic filter, got an empty string'],
    ['a/#/b', "'#' must be a whole level and the last one, as in site/#"],
    ['a/b#', "'#' must be a whole level and the last one, as in site/#"],
    ['a/b+/c', "'+' must be a whole level, as in site/+/temp"],
    ['a\u0000b', 'a topic filter cannot contain the NUL character'],
  ])('refuses %j', (filter, problem) => {
    expect(topicFilterProblem(filter)).toBe(problem);
  });
});

describe('TopicRouter', () => {
  const router = new TopicRouter([{ topic: 'plant/#' }, { topic: 'plant/+/temp' }, { topic: 'plant/line1/temp' }, { topic: 'plant/+/+' }]);
  it.each([
    ['plant/line1/temp', 'plant/line1/temp'],
    ['plant/line2/temp', 'plant/+/temp'],
    ['plant/line2/speed', 'plant/+/+'],
    ['plant/line2/motor/speed', 'plant/#'],
    ['other/x', undefined],
  ])('routes %s to the most specific filter %s', (topic, expected) => {
    expect(router.match(topic)?.topic).toBe(expected);
  });

  it('leaves a tie to the subscription listed first', () => {
    const tie = new TopicRouter([
      { topic: 'a/+/c', id: 1 },
      { topic: 'a/+/c', id: 2 },
    ]);
    expect(tie.match('a/b/c')?.id).toBe(1);
  });
});
