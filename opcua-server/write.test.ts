import { describe, expect, it } from 'vitest';
import { SourceWriteError } from '../gateway/sources/types.ts';
import { writeErrorStatus, WriteTimeoutError } from './write.ts';

describe('writeErrorStatus', () => {
  it.each([
    [new SourceWriteError('read-only register', 'not_writable'), 'BadNotWritable'],
    [new SourceWriteError('no such tag', 'unknown_tag'), 'BadNodeIdUnknown'],
    [new SourceWriteError('70000 does not fit', 'bad_value'), 'BadOutOfRange'],
    [new SourceWriteError('exception 4', 'device'), 'BadDeviceFailure'],
    [new WriteTimeoutError(10_000), 'BadTimeout'],
    [new Error('bug'), 'BadInternalError'],
  ])('maps %s to %s', (err, status) => {
    expect(writeErrorStatus(err).name).toBe(status);
  });
});
