import { readFile } from 'node:fs/promises';
import type { Secret } from '../../common/secret.ts';

export const SPOOL_KEY_BYTES = 32;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/** A spool key that cannot be used; the message never contains the key. */
export class SpoolKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpoolKeyError';
  }
}

/**
 * Decodes a 32-byte AES-256 key written as 64 hex digits or as base64 (standard or URL-safe).
 * Returns a problem as text, never echoing the key, when it is neither.
 */
export function decodeSpoolKey(text: string): Buffer | string {
  const trimmed = text.trim();
  if (HEX_KEY.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (BASE64_KEY.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === SPOOL_KEY_BYTES) return key;
  }
  return `expected ${SPOOL_KEY_BYTES} bytes as 64 hex digits or 44 base64 characters (got ${trimmed.length} characters); generate one with: openssl rand -base64 32`;
}

/** The key from config (already a Secret, usually from ${ENV}) or from a secret file. */
export async function loadSpoolKey(source: { key?: Secret; key_file?: string }): Promise<Buffer | undefined> {
  let text: string;
  let where: string;
  if (source.key !== undefined) {
    text = source.key.reveal();
    where = 'spool.encryption.key';
  } else if (source.key_file !== undefined) {
    where = `spool.encryption.key_file (${source.key_file})`;
    try {
      text = await readFile(source.key_file, 'utf8');
    } catch (err) {
      throw new SpoolKeyError(`${where}: cannot read the key file: ${(err as NodeJS.ErrnoException).code ?? 'unknown error'}`);
    }
  } else return undefined;
  const key = decodeSpoolKey(text);
  if (typeof key === 'string') throw new SpoolKeyError(`${where}: ${key}`);
  return key;
}
