import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * Every configuration the repository ships must pass --validate as it is run: the examples in
 * config/ with no environment, and the compose configs with exactly the environment
 * docker-compose.yml gives each service (a ${VAR:?...} the operator must set is given a
 * placeholder), so the compose file and its configs cannot drift apart.
 */
const COMPOSE_FILE = 'compose/docker-compose.yml';
const CONFIG_MOUNT = /^\.\/(config\/[\w.-]+\.yaml):(\/etc\/iot-connector\/[\w.-]+\.yaml)/;
const OPERATOR_SET = /^\$\{\w+:\?/;
/** The source entry point of each process, by the built file compose runs. */
const ENTRY: Record<string, string> = {
  'dist/gateway/main.js': 'gateway/main.ts',
  'dist/relay/main.js': 'relay/main.ts',
  'dist/sim/zerobus/main.js': 'sim/zerobus/main.ts',
};

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

function validate(entry: string, configFile: string, env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', entry, '--validate', '--config', configFile], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('shipped configurations', () => {
  it.each([
    ['gateway/main.ts', 'config/gateway.example.yaml'],
    ['relay/main.ts', 'config/relay.example.yaml'],
  ])('%s --validate accepts %s', (entry, file) => {
    const env: Record<string, string> = entry.startsWith('relay') ? { DATABRICKS_CLIENT_SECRET: 'placeholder' } : {};
    expect(validate(entry, file, env)).toEqual({ code: 0, out: `config ok: ${file}\n` });
  });

  const services = (parse(readFileSync(COMPOSE_FILE, 'utf8')) as { services: Record<string, Service> }).services;
  const withConfig = Object.entries(services).flatMap(([name, service]) => {
    const mount = (service.volumes ?? []).map((v) => CONFIG_MOUNT.exec(v)).find((m) => m !== null);
    const built = service.command?.find((arg) => arg in ENTRY);
    return mount && built ? [{ name, file: `compose/${mount[1]}`, entry: ENTRY[built] ?? '', environment: service.environment ?? {} }] : [];
  });

  it('finds the gateway, relay and emulator services of docker-compose.yml', () => {
    expect(withConfig.map((s) => s.name).sort()).toEqual(['emulator', 'gateway', 'relay']);
  });

  it.each(withConfig.map((s) => [s.name, s] as const))('compose service %s: its config validates with the environment compose gives it', (_, s) => {
    const env = Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, OPERATOR_SET.test(String(v)) ? 'placeholder' : String(v)]));
    expect(validate(s.entry, s.file, env)).toEqual({ code: 0, out: `config ok: ${s.file}\n` });
  });
});
