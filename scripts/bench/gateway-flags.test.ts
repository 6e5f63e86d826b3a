import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gatewayNodeFlags, nodeFlagsOf, npmScript } from './gateway-flags.ts';

const COMPOSE = new URL('../../compose/docker-compose.yml', import.meta.url);

describe('gateway node flags', () => {
  it('takes the options before the entry and leaves out the tsx loader', () => {
    expect(nodeFlagsOf(['node', '--a=1', '--import', 'tsx', '--b', 'gateway/main.ts', '--config', 'x'])).toEqual(['--a=1', '--b']);
    expect(nodeFlagsOf(['node', 'gateway/main.ts'])).toEqual([]);
  });

  it('keeps the V8 heap near its live size in the npm script', () => {
    expect(gatewayNodeFlags()).toEqual(expect.arrayContaining([expect.stringMatching(/^--heap-growing-percent=\d+$/)]));
  });

  it('runs the built gateway (npm run start:gateway) with the flags of the npm script', () => {
    const start = npmScript('start:gateway');
    expect(start).toContain('dist/gateway/main.js');
    expect(nodeFlagsOf(start)).toEqual(gatewayNodeFlags());
  });

  it('runs the compose gateway with the flags of the npm script', () => {
    const compose = parse(readFileSync(COMPOSE, 'utf8')) as { services: { gateway: { command: string[] } } };
    expect(nodeFlagsOf(compose.services.gateway.command)).toEqual(gatewayNodeFlags());
  });
});
