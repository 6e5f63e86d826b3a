import { describe, expect, it } from 'vitest';
import { compileTagPattern } from './glob.ts';

describe('compileTagPattern', () => {
  it.each([
    ['line1/*', 'line1/temp', true],
    ['line1/*', 'line1/motor/speed', false],
    ['line1/**', 'line1/motor/speed', true],
    ['**/speed', 'speed', true],
    ['**/speed', 'a/b/speed', true],
    ['**/speed', 'a/b/speedy', false],
    ['*', 'temp', true],
    ['*', 'a/temp', false],
    ['**', 'a/b/c', true],
    ['temp?', 'temp1', true],
    ['temp?', 'temp/', false],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['(x)+[y]', '(x)+[y]', true],
    ['line1/temp', 'line1/temp', true],
    ['line1/temp', 'line1/temp2', false],
  ])('%s against %s is %s', (pattern, tag, matches) => {
    expect(compileTagPattern(pattern).test(tag)).toBe(matches);
  });
});
