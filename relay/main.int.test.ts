import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const VALID = `zerobus:
  endpoint: 127.0.0.1:50051
  workspace_url: http://127.0.0.1:50052
  workspace_id: "1"
  client_id: sp
  client_secret: \${ZB_SECRET}
  insecure: true
`;

describe('relay CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relay-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function validate(yaml: string, env: Record<string, string> = {}) {
    const file = join(dir, `c-${Math.random().toString(16).slice(2)}.yaml`);
    return writeFile(file, yaml).then(() => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'relay/main.ts', '--validate', '--config', file], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      return { code: run.status, stderr: run.stderr, stdout: run.stdout, file };
    });
  }

  it('accepts a valid file and never prints its secret', async () => {
    const run = await validate(VALID, { ZB_SECRET: 'very-secret-value' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`config ok: ${run.file}\n`);
    expect(run.stdout + run.stderr).not.toContain('very-secret-value');
  });

  it.each([
    ['an unset environment variable', VALID, {}, 'config error: zerobus.client_secret: environment variable ZB_SECRET is not set\n'],
    ['a wrong type', VALID.replace('insecure: true', 'insecure: "yes"'), { ZB_SECRET: 's' }, 'config error: zerobus.insecure: expected boolean, got "yes"\n'],
    ['an unknown key', `${VALID}workers: { concurency: 4 }\n`, { ZB_SECRET: 's' }, 'config error: workers.concurency: unknown key\n'],
    ['a missing required key', VALID.replace('  client_id: sp\n', ''), { ZB_SECRET: 's' }, 'config error: zerobus.client_id: required key is missing\n'],
  ])('refuses %s with the exact message and exit code 2', async (_what, yaml, env, message) => {
    const run = await validate(yaml, env);
    expect(run.stderr).toBe(message);
    expect(run.code).toBe(2);
  });
});
