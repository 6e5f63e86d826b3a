/**
 * Tag patterns for per-tag settings. '*' matches within one level (no '/'), '**' matches any
 * number of levels, '?' matches one character other than '/'. Everything else is literal.
 * Examples: "line1/*" matches line1/temp but not line1/motor/speed; "**\/speed" matches
 * speed at any depth; "*" matches every tag of one level.
 */
export function compileTagPattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*' && pattern[i + 1] === '*') {
      // "**/" also matches zero levels, so "**/speed" matches "speed".
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
