import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';

/** Another live process holds the spool directory; two writers would corrupt it. */
export class SpoolLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`spool directory ${dir} is in use by process ${pid}; give each gateway its own spool.dir`);
    this.name = 'SpoolLockedError';
  }
}

/**
 * Takes the spool directory for this process: a LOCK file holding its pid, created
 * exclusively. A LOCK left by a process that is gone (kill -9, power loss) is taken over.
 * Returns the release function.
 */
export async function lockSpoolDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new SpoolLockedError(dir, pid);
    await unlink(path).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
