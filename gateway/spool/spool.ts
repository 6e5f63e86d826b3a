import { mkdir, unlink } from 'node:fs/promises';
import type { PendingBatch } from '../pipeline/memory-queue.ts';
import { encodeBatch } from './codec.ts';
import { CursorWriter } from './cursor.ts';
import { encodeFrame, FRAME_HEADER_BYTES, GCM_TAG_BYTES, SEGMENT_HEADER_BYTES } from './frame.ts';
import { nodeSpoolFs, type SpoolFile, type SpoolFs } from './fs.ts';
import { lockSpoolDir } from './lock.ts';
import { recoverSpool, segmentPath, type Segment } from './recover.ts';
import { createSegment, readFrameAt } from './segment-io.ts';
import { Signal } from './signal.ts';
import { tallyTables, UNKNOWN_TABLE } from './tally.ts';
import type { AppendResult, SpoolDropReason, SpoolOptions, SpoolStatus } from './types.ts';

export type { AppendResult, SpoolDropReason, SpoolOptions, SpoolStatus } from './types.ts';

interface Active {
  segment: Segment;
  file: SpoolFile;
}

interface Pinned {
  item: PendingBatch;
  nextOffset: number;
  records: number;
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Store-and-forward on local disk: batches in append-only segment files, fsynced after each
 * append, delivered oldest first, surviving restarts and kill -9. See docs/gateway.md.
 *
 * One writer (append, serialised) and one reader (peek, then ack or release). The reader is
 * always in the oldest segment; a segment is deleted once every batch in it is acknowledged.
 * The cursor file says where delivery resumes after a restart.
 */
export class Spool {
  readonly #o: SpoolOptions;
  readonly #fs: SpoolFs;
  readonly #cursor: CursorWriter;
  readonly #release: () => Promise<void>;
  readonly #segments: Segment[];
  #reader: { offset: number; frame: number; ackedRecords: number; file?: SpoolFile; fileOf?: Segment };
  #nextId: number;
  #active: Active | undefined;
  #pinned: Pinned | undefined;
  readonly #unpinned = new Signal();
  readonly #spaceFreed = new Signal();
  #evicting: Promise<void> | undefined;
  #writeChain: Promise<unknown> = Promise.resolve();
  #batches = 0;
  #records = 0;
  #bytes = 0;
  #diskFull = false;
  #blocked = false;
  /** drop_newest refused a batch: it refuses every later one too until space is freed, so what is kept has no holes. */
  #refusing = false;
  #writeFailing = false;
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  #closed = false;

  private constructor(o: SpoolOptions, release: () => Promise<void>, recovered: Awaited<ReturnType<typeof recoverSpool>>, batches: number) {
    this.#o = o;
    this.#fs = o.fs ?? nodeSpoolFs;
    this.#release = release;
    this.#segments = recovered.segments;
    this.#reader = { ...recovered.reader };
    this.#nextId = recovered.nextId;
    this.#cursor = new CursorWriter(o.dir, (err) => o.log.warn({ err }, 'Cannot save the spool cursor; a restart may re-send a few batches (same job ids).'));
    this.#bytes = this.#segments.reduce((n, s) => n + s.size, 0);
    this.#records = this.#segments.reduce((n, s) => n + s.records, 0) - this.#reader.ackedRecords;
    this.#batches = batches;
  }

  /** Locks the directory, recovers what earlier runs left, and opens for appending. */
  static async open(o: SpoolOptions): Promise<Spool> {
    await mkdir(o.dir, { recursive: true, mode: 0o700 });
    const release = await lockSpoolDir(o.dir);
    try {
      const recovered = await recoverSpool(o.dir, o.key, o.fs ?? nodeSpoolFs, o.log);
      const batches = recovered.segments.reduce((n, s) => n + s.frames, 0) - recovered.reader.frame;
      const spool = new Spool(o, release, recovered, batches);
      if (batches > 0) {
        o.log.info({ batches, records: spool.#records, bytes: spool.#bytes, segments: recovered.segments.length }, 'Spool holds batches from an earlier run; delivering them before new data.');
      }
      return spool;
    } catch (err) {
      await release();
      throw err;
    }
  }

  get isEmpty(): boolean {
    return this.#batches === 0;
  }

  status(): SpoolStatus {
    return {
      dir: this.#o.dir,
      encrypted: this.#o.key !== undefined,
      policy: this.#o.policy,
      bytes: this.#bytes,
      maxBytes: this.#o.maxBytes,
      segments: this.#segments.length,
      batches: this.#batches,
      records: this.#records,
      diskFull: this.#diskFull,
      accepting: !this.#diskFull && !this.#writeFailing && !this.#blocked && !this.#refusing,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
    };
  }

  /** Writes batches in order and fsyncs them; at the bound applies the policy. Serialised. */
  append(items: PendingBatch[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('the spool is closed'));
    const run = this.#writeChain.then(() => this.#append(items));
    this.#writeChain = run.catch(() => {});
    return run;
  }

  /** Resolves once an acknowledgement or eviction has freed space (for the block policy). */
  whenSpaceFreed(): Promise<void> {
    return this.#spaceFreed.wait();
  }

  /**
   * The oldest undelivered batch, pinned until ack() or release(); undefined when there is none.
   * A frame that fails its checks is dropped and counted (spool_corrupt), and the next is tried.
   */
  async peek(): Promise<PendingBatch | undefined> {
    if (this.#pinned) return this.#pinned.item;
    while (this.#evicting) await this.#evicting;
    for (;;) {
      if (this.#closed) return undefined;
      const segment = this.#segments[0];
      if (!segment) return undefined;
      if (this.#reader.offset >= segment.size) {
        if (segment === this.#active?.segment) return undefined;
        this.#retireOldest();
        continue;
      }
      const read = await readFrameAt(await this.#readerFile(segment), segment, this.#reader.offset, this.#reader.frame);
      if (read.kind === 'batch') {
        this.#pinned = { item: read.item, nextOffset: read.nextOffset, records: read.records };
        return read.item;
      }
      if (read.kind === 'lost') {
        this.#skipRestOfSegment(segment, read.error);
        continue;
      }
      this.#o.log.error(
        { segment: segment.path, frame: this.#reader.frame, records: read.records, error: read.error },
        'Spooled batch failed its integrity check and was dropped. Data was lost.',
      );
      this.#o.onDrop(UNKNOWN_TABLE, read.records, 'spool_corrupt');
      this.#advance(read.nextOffset, read.records);
    }
  }

  /**
   * A frame header damaged on disk after it was written: the frames after it cannot be found,
   * so the rest of the segment is dropped and counted with the record count the books hold.
   */
  #skipRestOfSegment(segment: Segment, error: string): void {
    const records = segment.records - this.#reader.ackedRecords;
    this.#o.log.error({ segment: segment.path, offset: this.#reader.offset, records, error }, 'Spool segment is damaged; dropped the rest of it. Data was lost.');
    this.#o.onDrop(UNKNOWN_TABLE, records, 'spool_corrupt');
    if (segment === this.#active?.segment) {
      // Never append after damage: the next write starts a new segment.
      void this.#closeActive();
    }
    this.#retireOldest();
  }

  /** The pinned batch reached Redis: moves delivery past it. */
  ack(): void {
    const pinned = this.#pinned;
    if (!pinned) return;
    this.#unpin();
    this.#advance(pinned.nextOffset, pinned.records);
  }

  /** The pinned batch was not delivered; it stays first. */
  release(): void {
    this.#unpin();
  }

  /** Waits for writes and the cursor, closes files and unlocks the directory. Safe twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writeChain;
    await this.#cursor.flush();
    await this.#active?.file.close().catch(() => {});
    await this.#reader.file?.close().catch(() => {});
    this.#active = undefined;
    this.#reader.file = undefined;
    this.#spaceFreed.fire();
    await this.#release();
  }

  async #append(items: PendingBatch[]): Promise<AppendResult> {
    const result: AppendResult = { accepted: [], refused: [], blocked: [] };
    const frameBytesOf = (plain: Buffer) => FRAME_HEADER_BYTES + plain.length + (this.#o.key ? GCM_TAG_BYTES : 0);
    let i = 0;
    while (i < items.length) {
      const first = items[i] as PendingBatch;
      const plainFirst = encodeBatch(first);
      let group: Array<{ item: PendingBatch; plain: Buffer }> = [];
      try {
        // A batch larger than the whole bound can never be spooled, whatever the policy.
        if (frameBytesOf(plainFirst) + SEGMENT_HEADER_BYTES > this.#o.maxBytes) {
          result.refused.push({ item: first, reason: 'spool_full' });
          i += 1;
          continue;
        }
        if (this.#refusing || !(await this.#makeRoom(frameBytesOf(plainFirst)))) {
          if (this.#o.policy === 'block') {
            result.blocked.push(...items.slice(i));
            this.#blocked = true;
            break;
          }
          this.#refusing = this.#o.policy === 'drop_newest';
          result.refused.push({ item: first, reason: 'spool_full' });
          i += 1;
          continue;
        }
        if (this.#needsRotation(frameBytesOf(plainFirst))) await this.#rotate();
        // As many following batches as fit in this segment and under the bound: one write, one fsync.
        group = [{ item: first, plain: plainFirst }];
        let groupBytes = frameBytesOf(plainFirst);
        const active = this.#active as Active;
        for (let j = i + 1; j < items.length; j++) {
          const plain = encodeBatch(items[j] as PendingBatch);
          const size = frameBytesOf(plain);
          if (active.segment.size + groupBytes + size > this.#o.segmentBytes || this.#bytes + groupBytes + size > this.#o.maxBytes) break;
          group.push({ item: items[j] as PendingBatch, plain });
          groupBytes += size;
        }
        await this.#writeGroup(active, group);
        result.accepted.push(...group.map((g) => g.item));
        i += group.length;
        this.#diskFull = false;
        this.#writeFailing = false;
      } catch (err) {
        const outcome = await this.#writeFailed(err as NodeJS.ErrnoException);
        if (outcome === 'retry') continue;
        if (outcome === 'block') {
          result.blocked.push(...items.slice(i));
          break;
        }
        const failed = group.length > 0 ? group.map((g) => g.item) : [first];
        result.refused.push(...failed.map((item) => ({ item, reason: outcome })));
        i += failed.length;
      }
    }
    if (result.blocked.length === 0) this.#blocked = false;
    return result;
  }

  /** Writes the frames in one call and fsyncs; on failure the segment is cut back and nothing counts. */
  async #writeGroup(active: Active, group: Array<{ item: PendingBatch; plain: Buffer }>): Promise<void> {
    const seg = active.segment;
    const frames = group.map((g, k) => encodeFrame(seg.header, seg.frames + k, g.item.batch.records.length, g.plain));
    const bytes = Buffer.concat(frames);
    await active.file.write(bytes, seg.size);
    await active.file.datasync();
    const records = group.reduce((n, g) => n + g.item.batch.records.length, 0);
    seg.size += bytes.length;
    seg.frames += group.length;
    seg.records += records;
    this.#bytes += bytes.length;
    this.#batches += group.length;
    this.#records += records;
  }

  /** True once frameBytes fit under maxBytes, evicting the oldest segments under drop_oldest. */
  async #makeRoom(frameBytes: number): Promise<boolean> {
    for (;;) {
      const extra = this.#needsRotation(frameBytes) ? SEGMENT_HEADER_BYTES : 0;
      if (this.#bytes + frameBytes + extra <= this.#o.maxBytes) return true;
      if (this.#o.policy !== 'drop_oldest') return false;
      if (await this.#evictOldest()) continue;
      // Only the segment being written is left: close it, so it can go too.
      if (this.#active && this.#active.segment.frames > 0 && this.#segments.length === 1) {
        await this.#closeActive();
        continue;
      }
      return false;
    }
  }

  #needsRotation(frameBytes: number): boolean {
    const a = this.#active;
    return !a || (a.segment.frames > 0 && a.segment.size + frameBytes > this.#o.segmentBytes);
  }

  /**
   * After a failed write or fsync: cuts the segment back to its last synced frame and closes it,
   * so the next write starts a new segment (a new key: a nonce is never used twice, even for
   * bytes that were written and cut). Says what to do with the batches.
   */
  async #writeFailed(err: NodeJS.ErrnoException): Promise<'retry' | 'block' | SpoolDropReason> {
    const diskFull = DISK_FULL_CODES.has(err.code ?? '');
    this.#diskFull ||= diskFull;
    this.#writeFailing = true;
    this.#lastError = err.code ? `${err.code}: ${err.message}` : err.message;
    this.#lastErrorAt = new Date().toISOString();
    const active = this.#active;
    if (active) {
      // If the cut fails, the file may keep garbage past segment.size; recovery cuts it.
      await active.file.truncate(active.segment.size).catch(() => {});
      await this.#closeActive();
    }
    this.#o.log.error({ err, diskFull, policy: this.#o.policy }, diskFull ? 'Spool disk is full.' : 'Cannot write to the spool.');
    if (diskFull && this.#o.policy === 'drop_oldest' && (await this.#evictOldest())) return 'retry';
    if (this.#o.policy === 'block') {
      this.#blocked = true;
      return 'block';
    }
    return diskFull ? 'disk_full' : 'spool_error';
  }

  async #rotate(): Promise<void> {
    await this.#closeActive();
    const id = this.#nextId;
    const { segment, file } = await createSegment(this.#fs, segmentPath(this.#o.dir, id), id, this.#o.key);
    this.#nextId = id + 1;
    this.#segments.push(segment);
    this.#bytes += segment.size;
    this.#active = { segment, file };
  }

  async #closeActive(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    await active?.file.close().catch(() => {});
  }

  /** Deletes the oldest closed segment and counts its undelivered records; false when none. */
  async #evictOldest(): Promise<boolean> {
    const segment = this.#segments[0];
    if (!segment || segment === this.#active?.segment) return false;
    let done!: () => void;
    this.#evicting = new Promise((resolve) => (done = resolve));
    try {
      // The batch being delivered finishes first (ack or release), so it is never both sent and counted lost.
      while (this.#pinned) await this.#unpinned.wait();
      if (this.#segments[0] !== segment) return true;
      const { offset, frame } = this.#reader;
      const tally = await tallyTables(this.#fs, segment, offset, frame, this.#reader.ackedRecords);
      const records = segment.records - this.#reader.ackedRecords;
      for (const [table, n] of tally) this.#o.onDrop(table, n, 'spool_full');
      this.#o.log.error(
        { segment: segment.path, batches: segment.frames - frame, records, maxBytes: this.#o.maxBytes },
        'Spool is full; deleted its oldest segment (policy drop_oldest). Data was lost.',
      );
      this.#retireOldest();
      return true;
    } finally {
      this.#evicting = undefined;
      done();
    }
  }

  #advance(nextOffset: number, records: number): void {
    this.#reader.offset = nextOffset;
    this.#reader.frame += 1;
    this.#reader.ackedRecords += records;
    this.#batches -= 1;
    this.#records -= records;
    const segment = this.#segments[0] as Segment;
    if (this.#reader.offset >= segment.size && segment !== this.#active?.segment) this.#retireOldest();
    else this.#saveCursor();
  }

  /** Removes the oldest segment from the books now and deletes its file soon. */
  #retireOldest(): void {
    const segment = this.#segments.shift() as Segment;
    this.#batches -= segment.frames - this.#reader.frame;
    this.#records -= segment.records - this.#reader.ackedRecords;
    this.#bytes -= segment.size;
    const file = this.#reader.file;
    this.#reader = { offset: SEGMENT_HEADER_BYTES, frame: 0, ackedRecords: 0 };
    void (async () => {
      await file?.close().catch(() => {});
      await unlink(segment.path).catch((err: Error) => this.#o.log.warn({ err, segment: segment.path }, 'Cannot delete a delivered spool segment.'));
    })();
    this.#saveCursor();
    this.#blocked = false;
    this.#refusing = false;
    this.#spaceFreed.fire();
  }

  #saveCursor(): void {
    const segment = this.#segments[0];
    this.#cursor.save({ segment: segment?.id ?? this.#nextId, offset: this.#reader.offset, frame: this.#reader.frame });
  }

  async #readerFile(segment: Segment): Promise<SpoolFile> {
    if (this.#reader.fileOf !== segment || !this.#reader.file) {
      const old = this.#reader.file;
      this.#reader.file = await this.#fs.open(segment.path, 'read');
      this.#reader.fileOf = segment;
      await old?.close().catch(() => {});
    }
    return this.#reader.file;
  }

  #unpin(): void {
    this.#pinned = undefined;
    this.#unpinned.fire();
  }
}
