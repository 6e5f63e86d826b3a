import { mkdtemp, readdir, readFile, rm, unlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { captureLogger } from '../../test/helpers/logs.ts';
import type { OverflowPolicy, PendingBatch } from '../pipeline/memory-queue.ts';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './frame.ts';
import { nodeSpoolFs, type SpoolFs } from './fs.ts';
import { SpoolKeyError } from './key.ts';
import { LOCK_FILE, SpoolLockedError } from './lock.ts';
import { Spool, type SpoolDropReason } from './spool.ts';
import { UNKNOWN_TABLE } from './tally.ts';

const KEY = Buffer.alloc(32, 0x5a);
const OTHER_KEY = Buffer.alloc(32, 0xa5);

/** A batch of `records` JSON records whose values are n*1000+i, so every record is unique. */
const batch = (n: number, records = 2, table = 'main.iot.t'): PendingBatch => {
  const recs = Array.from({ length: records }, (_, i) => JSON.stringify({ seq: n * 1000 + i, value: `plaintext-value-${n}-${i}` }));
  return { jobId: `gw.run.${n}`, createdAtMs: n, batch: { table, messageType: 'iot.bronze.MqttReading', recordType: 'json', records: recs, bytes: recs.join('').length } };
};
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(over: Partial<{ maxBytes: number; segmentBytes: number; policy: OverflowPolicy; key: Buffer; fs: SpoolFs }> = {}) {
  const logs = captureLogger();
  const drops: Array<{ table: string; records: number; reason: SpoolDropReason }> = [];
  return {
    logs,
    drops,
    opts: {
      dir,
      maxBytes: over.maxBytes ?? 1024 * 1024,
      segmentBytes: over.segmentBytes ?? 64 * 1024,
      policy: over.policy ?? 'drop_oldest',
      log: logs.log,
      onDrop: (table: string, records: number, reason: SpoolDropReason) => drops.push({ table, records, reason }),
      ...(over.key ? { key: over.key } : {}),
      ...(over.fs ? { fs: over.fs } : {}),
    },
  };
}

/** Delivers everything left, returning the batch numbers in delivery order. */
async function drain(spool: Spool): Promise<number[]> {
  const out: number[] = [];
  for (let b = await spool.peek(); b; b = await spool.peek()) {
    out.push(b.createdAtMs);
    spool.ack();
  }
  return out;
}

/** Simulates kill -9: the files stay as they are and the lock is left behind by a dead process. */
async function crash(): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  await writeFile(join(dir, LOCK_FILE), '999999999\n');
}

const segments = async () => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();

describe('Spool', () => {
  it('delivers batches in order across segments, deletes delivered segments, and counts what it holds', async () => {
    const spool = await Spool.open(options({ segmentBytes: 600 }).opts);
    const result = await spool.append(range(1, 10).map((n) => batch(n)));
    expect(result.accepted.map((b) => b.createdAtMs)).toEqual(range(1, 10));
    expect(spool.status()).toMatchObject({ batches: 10, records: 20, encrypted: false, diskFull: false, accepting: true });
    expect((await segments()).length).toBeGreaterThan(2);
    expect(await drain(spool)).toEqual(range(1, 10));
    expect(spool.status()).toMatchObject({ batches: 0, records: 0, segments: 1 });
    await spool.close();
    expect(await segments()).toHaveLength(1);
  });

  it('gives back the same batch until it is acknowledged', async () => {
    const spool = await Spool.open(options().opts);
    await spool.append([batch(1), batch(2)]);
    expect((await spool.peek())?.jobId).toBe('gw.run.1');
    spool.release();
    expect((await spool.peek())?.jobId).toBe('gw.run.1');
    spool.ack();
    expect((await spool.peek())?.jobId).toBe('gw.run.2');
    await spool.close();
  });

  it('survives a crash: a new process delivers what was spooled and not acknowledged, in order, with the same job ids', async () => {
    const first = await Spool.open(options({ segmentBytes: 500 }).opts);
    await first.append(range(1, 8).map((n) => batch(n)));
    expect(await first.peek()).toBeDefined();
    first.ack();
    await first.peek();
    first.ack();
    await crash();
    const { opts, logs } = options({ segmentBytes: 500 });
    const second = await Spool.open(opts);
    expect(second.status()).toMatchObject({ batches: 6, records: 12 });
    expect(logs.text()).toContain('Spool holds batches from an earlier run; delivering them before new data.');
    expect((await second.peek())?.jobId).toBe('gw.run.3');
    second.release();
    await second.append([batch(9)]);
    expect(await drain(second)).toEqual(range(3, 9));
    await second.close();
  });

  it('cuts a torn write at the end of a segment and keeps every whole batch before it', async () => {
    const first = await Spool.open(options().opts);
    await first.append([batch(1), batch(2)]);
    await crash();
    const [seg] = await segments();
    // A crash in the middle of a write: a frame header promising more bytes than follow.
    await appendFile(join(dir, seg as string), Buffer.from([0, 0, 1, 0, 0, 0, 0, 2, 1, 2, 3, 4, 5]));
    const { opts, logs } = options();
    const second = await Spool.open(opts);
    expect(logs.text()).toContain('Cut a partial write from the end of a spool segment');
    expect(await drain(second)).toEqual([1, 2]);
    await second.close();
  });

  it('with drop_oldest at the bound deletes the oldest segment and counts exactly the records it held', async () => {
    const { opts, drops, logs } = options({ maxBytes: 2000, segmentBytes: 500, policy: 'drop_oldest' });
    const spool = await Spool.open(opts);
    for (const n of range(1, 30)) expect((await spool.append([batch(n)])).accepted).toHaveLength(1);
    expect(spool.status().bytes).toBeLessThanOrEqual(2000);
    const delivered = await drain(spool);
    const dropped = drops.reduce((n, d) => n + d.records, 0);
    expect(new Set(drops.map((d) => `${d.table}/${d.reason}`))).toEqual(new Set(['main.iot.t/spool_full']));
    // The newest survive, as one unbroken run; every record missing is counted.
    expect(delivered).toEqual(range(31 - delivered.length, 30));
    expect(dropped).toBe((30 - delivered.length) * 2);
    expect(logs.lines.some((l) => l.includes('"level":"error"') && l.includes('Data was lost'))).toBe(true);
    await spool.close();
  });

  it('with drop_newest at the bound refuses the new batches and keeps the old ones', async () => {
    const spool = await Spool.open(options({ maxBytes: 2000, segmentBytes: 500, policy: 'drop_newest' }).opts);
    const refused: number[] = [];
    for (const n of range(1, 30)) refused.push(...(await spool.append([batch(n)])).refused.map((r) => r.item.createdAtMs));
    const delivered = await drain(spool);
    expect(delivered).toEqual(range(1, delivered.length));
    expect(refused).toEqual(range(delivered.length + 1, 30));
    await spool.close();
  });

  it('refuses a batch larger than the whole bound under any policy, rather than blocking on it for ever', async () => {
    const spool = await Spool.open(options({ maxBytes: 8192, segmentBytes: 4096, policy: 'block' }).opts);
    const result = await spool.append([batch(1, 200), batch(2)]);
    expect(result.refused.map((r) => [r.item.createdAtMs, r.reason])).toEqual([[1, 'spool_full']]);
    expect(result.accepted.map((b) => b.createdAtMs)).toEqual([2]);
    await spool.close();
  });

  it('with block at the bound hands the batches back, and takes them once delivery frees a segment', async () => {
    const spool = await Spool.open(options({ maxBytes: 2000, segmentBytes: 500, policy: 'block' }).opts);
    let n = 0;
    let blocked: PendingBatch[] = [];
    while (blocked.length === 0) blocked = (await spool.append([batch(++n)])).blocked;
    expect(blocked.map((b) => b.createdAtMs)).toEqual([n]);
    expect(spool.status().accepting).toBe(false);
    const freed = spool.whenSpaceFreed();
    await spool.peek();
    spool.ack();
    for (let b = await spool.peek(); b && spool.status().segments > 2; b = await spool.peek()) spool.ack();
    await freed;
    expect((await spool.append(blocked)).accepted).toHaveLength(1);
    expect(spool.status().accepting).toBe(true);
    await spool.close();
  });

  it('keeps no plaintext on disk when a key is set, and reads it back with the same key', async () => {
    const spool = await Spool.open(options({ key: KEY }).opts);
    await spool.append(range(1, 5).map((n) => batch(n)));
    await spool.close();
    const bytes = Buffer.concat(await Promise.all((await segments()).map((f) => readFile(join(dir, f)))));
    expect(bytes.includes('plaintext-value')).toBe(false);
    expect(bytes.includes('main.iot.t')).toBe(false);
    expect(bytes.includes('gw.run')).toBe(false);
    const again = await Spool.open(options({ key: KEY }).opts);
    expect(await drain(again)).toEqual(range(1, 5));
    await again.close();

    // The same data without a key is readable on disk: the test above can fail.
    await rm(dir, { recursive: true });
    const plain = await Spool.open(options().opts);
    await plain.append([batch(1)]);
    await plain.close();
    expect((await readFile(join(dir, (await segments())[0] as string))).includes('plaintext-value-1-0')).toBe(true);
  });

  it('refuses to start on segments encrypted with another key, or with no key, and deletes nothing', async () => {
    const spool = await Spool.open(options({ key: KEY }).opts);
    await spool.append([batch(1)]);
    await spool.close();
    await expect(Spool.open(options({ key: OTHER_KEY }).opts)).rejects.toThrow(SpoolKeyError);
    await expect(Spool.open(options().opts)).rejects.toThrow(/encrypted and no spool key is configured/);
    const again = await Spool.open(options({ key: KEY }).opts);
    expect(await drain(again)).toEqual([1]);
    await again.close();
  });

  it('detects a tampered frame (even with its CRC fixed), drops it with an ERROR and counts it, and delivers the rest', async () => {
    const spool = await Spool.open(options({ key: KEY }).opts);
    await spool.append([batch(1), batch(2), batch(3)]);
    await spool.close();
    const path = join(dir, (await segments())[0] as string);
    const bytes = await readFile(path);
    // Flip one ciphertext byte of the second frame and recompute its CRC, as an attacker would.
    const second = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + bytes.readUInt32BE(SEGMENT_HEADER_BYTES);
    const payloadAt = second + FRAME_HEADER_BYTES;
    bytes[payloadAt + 5] = (bytes[payloadAt + 5] as number) ^ 0x01;
    const payload = bytes.subarray(payloadAt, payloadAt + bytes.readUInt32BE(second));
    bytes.writeUInt32BE(crc32(payload, crc32(bytes.subarray(second + 4, second + 8))), second + 8);
    await writeFile(path, bytes);

    const { opts, drops, logs } = options({ key: KEY });
    const again = await Spool.open(opts);
    expect(await drain(again)).toEqual([1, 3]);
    expect(drops).toEqual([{ table: UNKNOWN_TABLE, records: 2, reason: 'spool_corrupt' }]);
    expect(logs.text()).toContain('fails authentication');
    await again.close();
  });

  it('keeps the frames around one that fails its CRC inside a segment, and drops and counts that one', async () => {
    const spool = await Spool.open(options().opts);
    await spool.append([batch(1), batch(2), batch(3)]);
    await spool.close();
    const path = join(dir, (await segments())[0] as string);
    const bytes = await readFile(path);
    const second = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + bytes.readUInt32BE(SEGMENT_HEADER_BYTES);
    bytes[second + FRAME_HEADER_BYTES + 3] = (bytes[second + FRAME_HEADER_BYTES + 3] as number) ^ 0xff;
    await writeFile(path, bytes);
    const { opts, drops, logs } = options();
    const again = await Spool.open(opts);
    expect(logs.text()).toContain('Spool segment holds frames that fail their checksum');
    expect(await drain(again)).toEqual([1, 3]);
    expect(drops).toEqual([{ table: UNKNOWN_TABLE, records: 2, reason: 'spool_corrupt' }]);
    await again.close();
  });

  it('detects two frames swapped in place', async () => {
    const spool = await Spool.open(options({ key: KEY }).opts);
    await spool.append([batch(1), batch(2)]);
    await spool.close();
    const path = join(dir, (await segments())[0] as string);
    const bytes = await readFile(path);
    const frameLength = FRAME_HEADER_BYTES + bytes.readUInt32BE(SEGMENT_HEADER_BYTES);
    const a = Buffer.from(bytes.subarray(SEGMENT_HEADER_BYTES, SEGMENT_HEADER_BYTES + frameLength));
    const b = Buffer.from(bytes.subarray(SEGMENT_HEADER_BYTES + frameLength, SEGMENT_HEADER_BYTES + 2 * frameLength));
    expect(a.length).toBe(b.length);
    b.copy(bytes, SEGMENT_HEADER_BYTES);
    a.copy(bytes, SEGMENT_HEADER_BYTES + frameLength);
    await writeFile(path, bytes);
    const { opts, drops } = options({ key: KEY });
    const again = await Spool.open(opts);
    expect(await drain(again)).toEqual([]);
    expect(drops.map((d) => d.reason)).toEqual(['spool_corrupt', 'spool_corrupt']);
    await again.close();
  });

  it('drops and counts the rest of a segment whose frame header is damaged on disk, then carries on in a new segment', async () => {
    const { opts, drops, logs } = options();
    const spool = await Spool.open(opts);
    await spool.append([batch(1), batch(2), batch(3)]);
    const path = join(dir, (await segments())[0] as string);
    const bytes = await readFile(path);
    const second = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + bytes.readUInt32BE(SEGMENT_HEADER_BYTES);
    bytes.writeUInt32BE(0, second);
    await writeFile(path, bytes);
    expect((await spool.peek())?.createdAtMs).toBe(1);
    spool.ack();
    expect(await spool.peek()).toBeUndefined();
    expect(drops).toEqual([{ table: UNKNOWN_TABLE, records: 4, reason: 'spool_corrupt' }]);
    expect(logs.text()).toContain('Spool segment is damaged; dropped the rest of it. Data was lost.');
    expect(spool.status()).toMatchObject({ batches: 0, records: 0 });
    await spool.append([batch(4)]);
    expect(await drain(spool)).toEqual([4]);
    await spool.close();
  });

  describe('on a full disk', () => {
    /** The real file system, failing every write with ENOSPC while `full` is set. */
    function fullDisk() {
      const state = { full: false };
      const fs: SpoolFs = {
        async open(path, mode) {
          const file = await nodeSpoolFs.open(path, mode);
          return {
            ...file,
            async write(buffer, position) {
              if (state.full) {
                // A real ENOSPC can leave part of the write behind.
                await file.write(buffer.subarray(0, Math.floor(buffer.length / 2)), position);
                throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
              }
              await file.write(buffer, position);
            },
          };
        },
      };
      return { fs, state };
    }

    it('under drop_newest refuses with reason disk_full, shows it in status, and recovers when space returns', async () => {
      const { fs, state } = fullDisk();
      const { opts, logs } = options({ policy: 'drop_newest', fs });
      const spool = await Spool.open(opts);
      await spool.append([batch(1)]);
      state.full = true;
      const result = await spool.append([batch(2), batch(3)]);
      expect(result.refused.map((r) => [r.item.createdAtMs, r.reason])).toEqual([
        [2, 'disk_full'],
        [3, 'disk_full'],
      ]);
      expect(spool.status()).toMatchObject({ diskFull: true, accepting: false, lastError: expect.stringContaining('ENOSPC') });
      expect(logs.text()).toContain('Spool disk is full.');
      state.full = false;
      expect((await spool.append([batch(4)])).accepted).toHaveLength(1);
      expect(spool.status()).toMatchObject({ diskFull: false, accepting: true });
      expect(await drain(spool)).toEqual([1, 4]);
      await spool.close();
      // The cut-back partial write is not in the file: a new process reads it cleanly.
      const again = await Spool.open(options().opts);
      expect(again.status().batches).toBe(0);
      await again.close();
    });

    it('under block hands the batches back to be kept in memory', async () => {
      const { fs, state } = fullDisk();
      const spool = await Spool.open(options({ policy: 'block', fs }).opts);
      state.full = true;
      expect((await spool.append([batch(1)])).blocked.map((b) => b.createdAtMs)).toEqual([1]);
      expect(spool.status().diskFull).toBe(true);
      state.full = false;
      expect((await spool.append([batch(1)])).accepted).toHaveLength(1);
      await spool.close();
    });

    it('under drop_oldest deletes the oldest segment, counts it, and writes the new batch', async () => {
      const { fs, state } = fullDisk();
      const { opts, drops } = options({ policy: 'drop_oldest', segmentBytes: 400, fs });
      const spool = await Spool.open(opts);
      for (const n of range(1, 4)) await spool.append([batch(n)]);
      let writes = 0;
      const realOpen = fs.open;
      fs.open = async (path, mode) => {
        const file = await realOpen(path, mode);
        return {
          ...file,
          async write(buffer, position) {
            writes += 1;
            // The disk is full for the first write only: deleting a segment frees room.
            state.full = writes === 1;
            await file.write(buffer, position);
          },
        };
      };
      const result = await spool.append([batch(5)]);
      expect(result.accepted.map((b) => b.createdAtMs)).toEqual([5]);
      expect(drops.reduce((n, d) => n + d.records, 0)).toBeGreaterThan(0);
      expect(drops.every((d) => d.reason === 'spool_full')).toBe(true);
      const delivered = await drain(spool);
      expect(delivered.at(-1)).toBe(5);
      expect(delivered.length * 2 + drops.reduce((n, d) => n + d.records, 0)).toBe(10);
      await spool.close();
    });
  });

  it('refuses a directory held by a live process, and takes over a lock left by a dead one', async () => {
    const spool = await Spool.open(options().opts);
    await expect(Spool.open(options().opts)).rejects.toThrow(SpoolLockedError);
    await spool.close();
    await writeFile(join(dir, LOCK_FILE), '999999999\n');
    const again = await Spool.open(options().opts);
    await again.close();
    await expect(readFile(join(dir, LOCK_FILE))).rejects.toThrow();
  });

  it('resumes after the last acknowledged batch even when the cursor file is gone (from the oldest segment)', async () => {
    const spool = await Spool.open(options().opts);
    await spool.append([batch(1), batch(2)]);
    await spool.peek();
    spool.ack();
    await crash();
    await unlink(join(dir, 'cursor.json'));
    const again = await Spool.open(options().opts);
    // Without a cursor, batch 1 is sent again: its job id makes the repeat a no-op in BullMQ.
    expect(await drain(again)).toEqual([1, 2]);
    await again.close();
  });
});
