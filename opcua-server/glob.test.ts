import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobs, globProblem } from './glob.ts';

describe('write_through tag patterns', () => {
  it.each([
    ['setpoints/speed', 'setpoints/speed', true],
    ['setpoints/speed', 'setpoints/speed2', false],
    ['setpoints/*', 'setpoints/speed', true],
    ['setpoints/*', 'setpoints/line1/speed', false],
    ['setpoints/**', 'setpoints/line1/speed', true],
    ['**', 'anything/at/all', true],
    ['*/speed', 'line1/speed', true],
    ['*/speed', 'a/b/speed', false],
    ['**/speed', 'a/b/speed', true],
    ['valve.1/open', 'valve.1/open', true],
    ['valve.1/open', 'valveX1/open', false],
    ['a+b/(c)', 'a+b/(c)', true],
  ])('%s matches %s: %s', (pattern, tag, expected) => {
    expect(compileGlob(pattern)(tag)).toBe(expected);
  });

  it('matches when any pattern of a list matches', () => {
    const match = compileGlobs(['setpoints/*', 'valves/**']);
    expect([match('setpoints/a'), match('valves/x/y'), match('sensors/t')]).toEqual([true, true, false]);
  });

  it('names what is wrong with a pattern', () => {
    expect(globProblem('')).toMatch(/empty/);
    expect(globProblem('a/***')).toMatch(/not \*\*\*/);
    expect(globProblem('a/**')).toBeUndefined();
  });
});
