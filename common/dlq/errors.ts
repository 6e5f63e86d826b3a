/** The dead-letter store's own failures, each saying what the caller should do. */

/** The store is at its size bound: the entry was not stored. Keep the data elsewhere; nothing was evicted. */
export class DeadLetterStoreFullError extends Error {
  readonly entries: number;
  readonly bytes: number;

  constructor(message: string, counts: { entries: number; bytes: number }) {
    super(message);
    this.name = 'DeadLetterStoreFullError';
    this.entries = counts.entries;
    this.bytes = counts.bytes;
  }
}

/** The entry kind cannot be replayed (a raw payload never became records). */
export class NotReplayableError extends Error {
  readonly id: string;

  constructor(id: string, message: string) {
    super(message);
    this.name = 'NotReplayableError';
    this.id = id;
  }
}

/** No entry has this id (never stored, or already replayed or deleted). */
export class DeadLetterNotFoundError extends Error {
  readonly id: string;

  constructor(id: string) {
    super(`dead letter ${id} does not exist (never stored, or already replayed or deleted)`);
    this.name = 'DeadLetterNotFoundError';
    this.id = id;
  }
}

/** A stored entry that does not read back as an entry (written by another version, or by hand). */
export class DeadLetterCorruptError extends Error {
  readonly id: string;

  constructor(id: string, detail: string) {
    super(`dead letter ${id} is not a valid entry: ${detail}`);
    this.name = 'DeadLetterCorruptError';
    this.id = id;
  }
}
