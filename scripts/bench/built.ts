import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built form of the project, as compose and `npm run start:gateway` run it: `npm run build`
 * (tsc -p tsconfig.build.json) into dist/. A benchmark that stands for a production process
 * measures this form; under the tsx loader the same process holds about 40 MB more RSS (the
 * loader, and source maps it enables for every module).
 */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = new URL('../../dist/', import.meta.url);
const BUILD_TIMEOUT_MS = 300_000;

/** Compiles the project into dist/; fails with tsc's own output. */
export function buildDist(): Promise<void> {
  const manifest = createRequire(import.meta.url).resolve('typescript/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { tsc: string } };
  const tsc = join(dirname(manifest), bin.tsc);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: BUILD_TIMEOUT_MS });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build (tsc -p tsconfig.build.json) failed with exit ${code}:\n${output}`))));
  });
}

/** dist/'s compiled file for a source file of the repository, e.g. scripts/bench/x.ts → dist/scripts/bench/x.js. */
export function builtPath(source: string): string {
  const path = relative(REPO_ROOT, source);
  if (!path.endsWith('.ts') || path.startsWith('..')) throw new Error(`${source} is not a TypeScript file of the repository`);
  return fileURLToPath(new URL(path.replace(/\.ts$/, '.js'), DIST));
}

/** How a script forks a sibling module: the sibling's own form (.ts under tsx, .js when built). */
export function sibling(moduleUrl: string, name: string): { path: string; execArgv: string[] } {
  const built = moduleUrl.endsWith('.js');
  return { path: fileURLToPath(new URL(`./${name}${built ? '.js' : '.ts'}`, moduleUrl)), execArgv: built ? [] : ['--import', 'tsx'] };
}
