import { describe, expect, it } from 'vitest';
import { DEFAULT_SPARKPLUG_TAG_TEMPLATE, highestLevel, parseTagTemplate, renderSparkplugTag, renderTag, type TagPart } from './tag.ts';

function render(template: string, topic: string) {
  return renderTag(parseTagTemplate(template) as TagPart[], topic);
}

describe('tag templates', () => {
  it.each([
    ['{topic}', 'plant/line1/temp', 'plant/line1/temp'],
    ['{1}/{2}', 'plant/line1/temp', 'line1/temp'],
    ['{0}', 'plant/line1/temp', 'plant'],
    ['site-{0}.{2}', 'plant/line1/temp', 'site-plant.temp'],
    ['fixed', 'plant/line1/temp', 'fixed'],
    ['{2}/{topic}', 'a/b/c', 'c/a/b/c'],
  ])('%s on %s gives %s', (template, topic, tag) => {
    expect(render(template, topic)).toEqual({ tag });
  });

  it('says which level is missing when the topic is shorter than the template', () => {
    expect(render('{3}', 'a/b')).toEqual({ reason: 'tag level {3} not in topic (it has 2 levels)' });
  });

  it('refuses a template that gives an empty tag', () => {
    expect(render('{1}', 'a/')).toEqual({ reason: 'tag template gave an empty tag' });
  });

  it.each([
    ['{name}', 'unknown placeholder {name}: use {topic} or a topic level such as {0}'],
    ['{01}', 'unknown placeholder {01}: use {topic} or a topic level such as {0}'],
    ['{1', 'unbalanced brace: placeholders look like {topic} or {0}'],
    ['a}', 'unbalanced brace: placeholders look like {topic} or {0}'],
    ['', 'expected a template, got an empty string'],
  ])('refuses %j', (template, problem) => {
    expect(parseTagTemplate(template)).toBe(problem);
  });

  it('finds the highest level a template names', () => {
    expect(highestLevel(parseTagTemplate('{1}/{4}/{topic}') as TagPart[])).toBe(4);
    expect(highestLevel(parseTagTemplate('{topic}') as TagPart[])).toBe(-1);
  });
});

describe('sparkplug tag templates', () => {
  const names = { group_id: 'plant1', edge_node_id: 'edge7', device_id: 'press3', metric: 'Motor/Speed' };
  const render = (template: string, n = names) => renderSparkplugTag(parseTagTemplate(template, 'sparkplug') as TagPart[], n);

  it('renders a device metric under group, edge node and device', () => {
    expect(render(DEFAULT_SPARKPLUG_TAG_TEMPLATE)).toBe('plant1/edge7/press3/Motor/Speed');
  });

  it('drops the empty device segment of a node metric', () => {
    expect(render(DEFAULT_SPARKPLUG_TAG_TEMPLATE, { ...names, device_id: '' })).toBe('plant1/edge7/Motor/Speed');
  });

  it('keeps fixed text', () => {
    expect(render('site-a/{device_id}.{metric}')).toBe('site-a/press3.Motor/Speed');
  });

  it.each([
    ['{topic}/{metric}', 'unknown placeholder {topic}: a sparkplug_b tag uses {group_id}, {edge_node_id}, {device_id} and {metric}'],
    ['{group_id}', 'a sparkplug_b tag must contain {metric}, or every metric of a device would share one tag'],
    ['{metric', 'unbalanced brace: placeholders look like {metric}'],
  ])('refuses %j', (template, problem) => {
    expect(parseTagTemplate(template, 'sparkplug')).toBe(problem);
  });
});
