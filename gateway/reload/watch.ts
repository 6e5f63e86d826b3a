import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../common/logger.ts';

export interface FileWatch {
  close(): void;
}

/**
 * Calls onChange once the config file's content has changed and then stayed quiet for
 * debounceMs. It watches the directory, not the file, so a save by rename (editors) or a
 * swapped symlink (Kubernetes ConfigMaps) is seen too; a change is a different content hash,
 * so touching the file, or a write of the same text, does nothing.
 */
export async function watchConfigFile(file: string, debounceMs: number, onChange: () => void, log: Logger): Promise<FileWatch> {
  let last = await digest(file);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const check = async () => {
    timer = undefined;
    const now = await digest(file);
    if (closed || now === undefined || now === last) return;
    last = now;
    onChange();
  };
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      // Some platforms give no name; a directory event may also be the ConfigMap's ..data link.
      if (name !== null && name !== basename(file) && !name.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check(), debounceMs);
    });
  } catch (err) {
    log.warn({ err, file }, 'Cannot watch the config file; reload with SIGHUP or POST /config/reload instead.');
    return { close() {} };
  }
  watcher.on('error', (err) => log.warn({ err, file }, 'Watching the config file failed; reload with SIGHUP or POST /config/reload instead.'));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

async function digest(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    // Gone for a moment while an editor replaces it; the next event reads it again.
    return undefined;
  }
}
