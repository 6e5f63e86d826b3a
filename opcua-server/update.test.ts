import { DataType, StatusCodes, Variant } from 'node-opcua';
import { describe, expect, it } from 'vitest';
import { readingDataValue } from './update.ts';

const variant = new Variant({ dataType: DataType.Double, value: 1 });
const US = 1_000;

describe('readingDataValue', () => {
  it('keeps microseconds as picoseconds and the two times apart', () => {
    const dv = readingDataValue(variant, StatusCodes.Good, 1_700_000_000_123_456, 1_700_000_000_200_001);
    expect(dv.sourceTimestamp?.getTime()).toBe(1_700_000_000_123);
    expect(dv.sourcePicoseconds).toBe(456_000_000);
    expect(dv.serverTimestamp?.getTime()).toBe(1_700_000_000_200);
    expect(dv.serverPicoseconds).toBe(1_000_000);
  });

  it('shares one Date between readings stamped in the same millisecond', () => {
    const t = 1_700_000_000_500 * US;
    const a = readingDataValue(variant, StatusCodes.Good, t, t + 10);
    const b = readingDataValue(variant, StatusCodes.Good, t + 999, t + 20);
    expect(b.sourceTimestamp).toBe(a.sourceTimestamp);
    expect(b.serverTimestamp).toBe(a.serverTimestamp);
    expect(b.sourcePicoseconds).toBe(999_000_000);
  });

  it('gives a reading of another millisecond its own Date and leaves earlier ones as they were', () => {
    const t = 1_700_000_001_000 * US;
    const a = readingDataValue(variant, StatusCodes.Good, t, t);
    const b = readingDataValue(variant, StatusCodes.Good, t + US, t + US);
    expect(b.sourceTimestamp).not.toBe(a.sourceTimestamp);
    expect(a.sourceTimestamp?.getTime()).toBe(1_700_000_001_000);
    expect(b.serverTimestamp?.getTime()).toBe(1_700_000_001_001);
  });
});
