import type { Decoded, DecodeFailure } from './decode.ts';

/**
 * Plain payloads: the whole payload is one value, as UTF-8 text. Pure.
 *
 * - `number`: a decimal number such as 21.5, -3, 1e-3 (surrounding white space ignored).
 *   Hex, "NaN", "Infinity" and empty text are refused.
 * - `string`: the text as it is (it must be valid UTF-8; an empty payload is an empty string).
 * - `boolean`: true/false, 1/0, on/off, yes/no, in any case.
 */
export type PlainType = 'number' | 'string' | 'boolean';
export const DEFAULT_PLAIN_TYPE: PlainType = 'number';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const TRUE_WORDS = new Set(['true', '1', 'on', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'off', 'no']);
/** A refused payload is quoted in the reason up to this many characters. */
const MAX_QUOTED_CHARS = 40;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodePlainPayload(payload: Buffer, type: PlainType): Decoded | DecodeFailure {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { kind: 'invalid_utf8', reason: 'payload is not valid UTF-8 text' };
  }
  if (type === 'string') return { value: text };
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty_payload', reason: `empty payload where a ${type} was expected` };
  if (type === 'number') {
    const value = Number(trimmed);
    if (!DECIMAL.test(trimmed) || !Number.isFinite(value)) return { kind: 'invalid_number', reason: `'${quote(trimmed)}' is not a decimal number` };
    return { value };
  }
  const lower = trimmed.toLowerCase();
  if (TRUE_WORDS.has(lower)) return { value: true };
  if (FALSE_WORDS.has(lower)) return { value: false };
  return { kind: 'invalid_boolean', reason: `'${quote(trimmed)}' is not a boolean (true/false, 1/0, on/off, yes/no)` };
}

function quote(text: string): string {
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}...` : text;
}
