import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from '../scripts/config-docs-page.ts';

describe('docs/configuration.md', () => {
  it('matches the config schemas (regenerate with npm run docs:config)', async () => {
    const committed = await readFile(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigDocs());
  });
});
