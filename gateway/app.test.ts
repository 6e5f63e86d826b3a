import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../common/config/load.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { startGateway } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import { LOCK_FILE } from './spool/lock.ts';

const config = (spool: string) =>
  parseConfigText(
    `redis: { url: "redis://127.0.0.1:1" }\nhttp: { port: 0 }\nspool: ${spool}\nsources:\n  - name: a\n    mqtt: { url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: t }] }\n`,
    gatewayConfigSchema,
    {},
  );

describe('startGateway with a spool it cannot use', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gw-app-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start on a spool directory another live process holds', async () => {
    await writeFile(join(dir, LOCK_FILE), `${process.pid}\n`);
    await expect(startGateway(config(`{ dir: "${dir}" }`), { log: captureLogger().log })).rejects.toThrow(
      `spool directory ${dir} is in use by process ${process.pid}; give each gateway its own spool.dir`,
    );
  });

  it('refuses to start when the key file cannot be read, naming the key and not the path only', async () => {
    const keyFile = join(dir, 'absent.key');
    await expect(startGateway(config(`{ dir: "${dir}/s", encryption: { key_file: "${keyFile}" } }`), { log: captureLogger().log })).rejects.toThrow(
      `spool.encryption.key_file (${keyFile}): cannot read the key file: ENOENT`,
    );
  });

  it('refuses a key file that does not hold a 32-byte key, without echoing it', async () => {
    const keyFile = join(dir, 'bad.key');
    await writeFile(keyFile, 'my-passphrase\n');
    const failure = startGateway(config(`{ dir: "${dir}/s", encryption: { key_file: "${keyFile}" } }`), { log: captureLogger().log });
    await expect(failure).rejects.toThrow(/expected 32 bytes/);
    await expect(failure).rejects.not.toThrow(/my-passphrase/);
  });
});
