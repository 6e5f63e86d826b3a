import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The on-disk layout of a spool segment.
 *
 * Segment header (64 bytes):
 *   0  magic "IOTCSPOL"        8  version (1)     9  flags (bit 0: encrypted)   10 reserved (2)
 *   12 salt (32 random bytes)  44 key check (16)  60 CRC-32 of bytes 0-59
 * Frames follow, one per batch:
 *   u32 payload length | u32 record count | u32 CRC-32 of (record count, payload) | payload
 *
 * Encrypted segments use AES-256-GCM with a key of their own, HKDF-SHA256(master key, salt):
 * the nonce is the frame's index in its segment (0, 1, 2, ...), so it never repeats under one
 * key, and a segment is never appended to after the process that created it stops. The
 * record count is authenticated data, and the 16-byte tag ends the payload. A frame moved,
 * altered or swapped fails authentication. The key check (HMAC of the salt under the master
 * key) tells a wrong key from tampering before any frame is read.
 * The CRC tells a torn write (power loss during a write) from tampering: it is checked first.
 */
export const SEGMENT_HEADER_BYTES = 64;
export const FRAME_HEADER_BYTES = 12;
export const GCM_TAG_BYTES = 16;
/** A length above this is not a frame: the bytes are garbage (a torn or corrupt write). */
export const MAX_FRAME_PAYLOAD_BYTES = 256 * 1024 * 1024;

const MAGIC = Buffer.from('IOTCSPOL', 'ascii');
const FORMAT_VERSION = 1;
const FLAG_ENCRYPTED = 1;
const SALT_AT = 12;
const SALT_BYTES = 32;
const KEY_CHECK_AT = SALT_AT + SALT_BYTES;
const KEY_CHECK_BYTES = 16;
const HEADER_CRC_AT = KEY_CHECK_AT + KEY_CHECK_BYTES;
const NONCE_BYTES = 12;
const NONCE_INDEX_AT = 4;
const KEY_BYTES = 32;
const HKDF_INFO = Buffer.from('iotc spool segment v1');
const KEY_CHECK_LABEL = Buffer.from('iotc spool key check v1');

/** A frame or header that fails its checks; `kind` says whether the bytes or the key are at fault. */
export class SpoolFormatError extends Error {
  readonly kind: 'torn' | 'corrupt' | 'tampered' | 'wrong_key' | 'no_key';
  constructor(message: string, kind: SpoolFormatError['kind']) {
    super(message);
    this.name = 'SpoolFormatError';
    this.kind = kind;
  }
}

export interface SegmentHeader {
  encrypted: boolean;
  salt: Buffer;
  /** The segment's own AES key; absent for a plain segment. */
  key?: Buffer;
}

/** A new segment's header bytes and the header they describe. */
export function newSegmentHeader(masterKey: Buffer | undefined): { bytes: Buffer; header: SegmentHeader } {
  const salt = randomBytes(SALT_BYTES);
  const bytes = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt8(FORMAT_VERSION, MAGIC.length);
  bytes.writeUInt8(masterKey ? FLAG_ENCRYPTED : 0, MAGIC.length + 1);
  salt.copy(bytes, SALT_AT);
  if (masterKey) keyCheck(masterKey, salt).copy(bytes, KEY_CHECK_AT);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, HEADER_CRC_AT)), HEADER_CRC_AT);
  return { bytes, header: { encrypted: masterKey !== undefined, salt, ...(masterKey ? { key: segmentKey(masterKey, salt) } : {}) } };
}

/** Checks a segment header and derives its key. Throws SpoolFormatError. */
export function readSegmentHeader(bytes: Buffer, masterKey: Buffer | undefined): SegmentHeader {
  if (bytes.length < SEGMENT_HEADER_BYTES) throw new SpoolFormatError('segment header is incomplete', 'torn');
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new SpoolFormatError('not a spool segment (bad magic)', 'corrupt');
  if (bytes.readUInt32BE(HEADER_CRC_AT) !== crc32(bytes.subarray(0, HEADER_CRC_AT))) throw new SpoolFormatError('segment header fails its CRC', 'corrupt');
  const version = bytes.readUInt8(MAGIC.length);
  if (version !== FORMAT_VERSION) throw new SpoolFormatError(`segment format version ${version} is not supported`, 'corrupt');
  const encrypted = (bytes.readUInt8(MAGIC.length + 1) & FLAG_ENCRYPTED) !== 0;
  const salt = Buffer.from(bytes.subarray(SALT_AT, SALT_AT + SALT_BYTES));
  if (!encrypted) return { encrypted, salt };
  if (!masterKey) throw new SpoolFormatError('segment is encrypted and no spool key is configured', 'no_key');
  if (!timingSafeEqual(keyCheck(masterKey, salt), bytes.subarray(KEY_CHECK_AT, KEY_CHECK_AT + KEY_CHECK_BYTES))) {
    throw new SpoolFormatError('segment was encrypted with a different key', 'wrong_key');
  }
  return { encrypted, salt, key: segmentKey(masterKey, salt) };
}

/** One frame's bytes: header and payload (sealed when the segment has a key). */
export function encodeFrame(header: SegmentHeader, index: number, recordCount: number, plain: Buffer): Buffer {
  const payload = header.key ? seal(header.key, index, recordCount, plain) : plain;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(recordCount, 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32BE(crc32(frame.subarray(FRAME_HEADER_BYTES), crc32(frame.subarray(4, 8))), 8);
  return frame;
}

export interface FrameHead {
  payloadBytes: number;
  recordCount: number;
  crc: number;
}

/** The fixed part of a frame; throws 'torn' when the length cannot be a frame. */
export function readFrameHead(bytes: Buffer): FrameHead {
  if (bytes.length < FRAME_HEADER_BYTES) throw new SpoolFormatError('frame header is incomplete', 'torn');
  const payloadBytes = bytes.readUInt32BE(0);
  if (payloadBytes === 0 || payloadBytes > MAX_FRAME_PAYLOAD_BYTES) throw new SpoolFormatError(`frame length ${payloadBytes} is not plausible`, 'torn');
  return { payloadBytes, recordCount: bytes.readUInt32BE(4), crc: bytes.readUInt32BE(8) };
}

/** Checks a frame's CRC and opens its payload. Throws SpoolFormatError (corrupt or tampered). */
export function openFrame(header: SegmentHeader, index: number, head: FrameHead, payload: Buffer): Buffer {
  if (!frameCrcOk(head, payload)) throw new SpoolFormatError('frame fails its CRC', 'corrupt');
  if (!header.key) return payload;
  try {
    return unseal(header.key, index, head.recordCount, payload);
  } catch {
    throw new SpoolFormatError(`frame ${index} fails authentication: it was altered, moved or swapped`, 'tampered');
  }
}

export function frameCrcOk(head: FrameHead, payload: Buffer): boolean {
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(head.recordCount, 0);
  return crc32(payload, crc32(count)) === head.crc;
}

function seal(key: Buffer, index: number, recordCount: number, plain: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce(index));
  cipher.setAAD(aad(recordCount));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]);
}

function unseal(key: Buffer, index: number, recordCount: number, payload: Buffer): Buffer {
  if (payload.length < GCM_TAG_BYTES) throw new Error('payload shorter than its tag');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(index));
  decipher.setAAD(aad(recordCount));
  decipher.setAuthTag(payload.subarray(payload.length - GCM_TAG_BYTES));
  return Buffer.concat([decipher.update(payload.subarray(0, payload.length - GCM_TAG_BYTES)), decipher.final()]);
}

function nonce(index: number): Buffer {
  const n = Buffer.alloc(NONCE_BYTES);
  n.writeBigUInt64BE(BigInt(index), NONCE_INDEX_AT);
  return n;
}

function aad(recordCount: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(recordCount, 0);
  return b;
}

function segmentKey(masterKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, salt, HKDF_INFO, KEY_BYTES));
}

function keyCheck(masterKey: Buffer, salt: Buffer): Buffer {
  return createHmac('sha256', masterKey).update(KEY_CHECK_LABEL).update(salt).digest().subarray(0, KEY_CHECK_BYTES);
}
