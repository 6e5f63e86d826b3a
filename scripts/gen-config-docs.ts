import { readFile, writeFile } from 'node:fs/promises';
import { renderConfigDocs } from './config-docs-page.ts';

/** Writes docs/configuration.md from the config schemas; with --check, fails when it is stale. */
const TARGET = new URL('../docs/configuration.md', import.meta.url);

const page = renderConfigDocs();
if (process.argv.includes('--check')) {
  const current = await readFile(TARGET, 'utf8').catch(() => '');
  if (current !== page) {
    process.stderr.write('docs/configuration.md is out of date: run npm run docs:config\n');
    process.exit(1);
  }
} else {
  await writeFile(TARGET, page);
  process.stdout.write('wrote docs/configuration.md\n');
}
