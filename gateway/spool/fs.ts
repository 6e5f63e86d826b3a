import { open, type FileHandle } from 'node:fs/promises';

/** A segment file as the spool uses it: positional reads and writes, durable sync. */
export interface SpoolFile {
  /** Writes all of buffer at position, or throws (the file may then hold part of it). */
  write(buffer: Buffer, position: number): Promise<void>;
  /** Reads up to buffer.length bytes at position; returns how many were read. */
  read(buffer: Buffer, position: number): Promise<number>;
  datasync(): Promise<void>;
  truncate(size: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/**
 * How the spool opens segment files. The default is the real file system; a test passes a
 * wrapper around it to inject a full disk (ENOSPC) at a chosen byte.
 */
export interface SpoolFs {
  /** 'create' fails when the file exists; 'append' opens it for writing; 'read' for reading. */
  open(path: string, mode: 'create' | 'append' | 'read'): Promise<SpoolFile>;
}

const FLAGS = { create: 'wx', append: 'r+', read: 'r' } as const;
const FILE_MODE = 0o600;

export const nodeSpoolFs: SpoolFs = {
  async open(path, mode) {
    return wrap(await open(path, FLAGS[mode], FILE_MODE));
  },
};

function wrap(handle: FileHandle): SpoolFile {
  return {
    async write(buffer, position) {
      let done = 0;
      while (done < buffer.length) {
        const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, position + done);
        done += bytesWritten;
      }
    },
    async read(buffer, position) {
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    },
    datasync: () => handle.datasync(),
    truncate: (size) => handle.truncate(size),
    size: async () => (await handle.stat()).size,
    close: () => handle.close(),
  };
}
