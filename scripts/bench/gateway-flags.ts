import { readFileSync } from 'node:fs';

/**
 * The node flags the gateway runs with in production, read from package.json's "gateway" script
 * (compose/docker-compose.yml repeats them; gateway-flags.test.ts checks the two agree). The
 * benchmarks that stand for the gateway process start it with these, the bare-library runs
 * too, so what they measure is what production runs and the comparison stays fair.
 */
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);
/** The loader, not a runtime setting: every benchmark process adds it itself. */
const LOADER = ['--import', 'tsx'];

/** The node options of a command line "node <flags> [--import tsx] <entry> ...": the tokens before the entry. */
export function nodeFlagsOf(command: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 1; i < command.length; i++) {
    const token = command[i]!;
    if (token === LOADER[0] && command[i + 1] === LOADER[1]) {
      i++;
      continue;
    }
    if (!token.startsWith('--')) break;
    flags.push(token);
  }
  return flags;
}

/** Set to measure other flags than production's, e.g. GATEWAY_NODE_FLAGS="--max-semi-space-size=8 --heap-growing-percent=10". */
export const FLAGS_OVERRIDE_ENV = 'GATEWAY_NODE_FLAGS';

/** The flags a benchmark runs the gateway-like processes with: $GATEWAY_NODE_FLAGS when set, else production's. */
export function benchNodeFlags(): { flags: string[]; from: string } {
  const override = process.env[FLAGS_OVERRIDE_ENV];
  if (override !== undefined) return { flags: override.split(/\s+/).filter(Boolean), from: `$${FLAGS_OVERRIDE_ENV}, not production's` };
  return { flags: gatewayNodeFlags(), from: 'package.json\'s "gateway" script: production\'s' };
}

export function gatewayNodeFlags(): string[] {
  return nodeFlagsOf(npmScript('gateway'));
}

/** A package.json script's command line, split into tokens. */
export function npmScript(name: string): string[] {
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts[name];
  if (!script) throw new Error(`package.json has no "${name}" script`);
  return script.split(/\s+/);
}
