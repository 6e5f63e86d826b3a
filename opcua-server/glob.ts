/**
 * Tag path patterns for write_through: '*' matches any text within one folder level, '**' any
 * text across levels ('/' included). Everything else matches itself. Pure; no I/O.
 */

/** Why a pattern cannot be used, or undefined when it is fine. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'expected a tag path pattern, got an empty string';
  if (/\*{3,}/.test(pattern)) return `"${pattern}": use * (one level) or ** (any levels), not ***`;
  return undefined;
}

/** A matcher for one pattern, compiled once. */
export function compileGlob(pattern: string): (tag: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') {
      source += '[^/]*';
    } else {
      source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  const regex = new RegExp(`^${source}$`);
  return (tag) => regex.test(tag);
}

/** A matcher for a list of patterns: true when any matches. */
export function compileGlobs(patterns: readonly string[]): (tag: string) => boolean {
  const matchers = patterns.map(compileGlob);
  return (tag) => matchers.some((m) => m(tag));
}
