import { describe, expect, it } from 'vitest';
import type { SourceReading } from '../../common/reading.ts';
import { newRunId, Stamper } from './stamp.ts';

const reading = (source: string): SourceReading => ({
  source,
  tag: 't',
  value: 1,
  quality: 0,
  sourceTimeUs: 1,
  gatewayTimeUs: 1,
  details: { protocol: 'mqtt', topic: 't', qos: 0, retain: false },
});

describe('Stamper', () => {
  it('numbers each source from 1 upward, independently of other sources', () => {
    const stamper = new Stamper('gw', 'run');
    const seqs = ['a', 'a', 'b', 'a', 'b'].map((s) => [s, stamper.stamp(reading(s)).seq]);
    expect(seqs).toEqual([
      ['a', 1],
      ['a', 2],
      ['b', 1],
      ['a', 3],
      ['b', 2],
    ]);
    expect(stamper.lastSeq('a')).toBe(3);
    expect(stamper.lastSeq('never')).toBe(0);
  });

  it('gives a reading that is not written the last written seq and takes no number', () => {
    const stamper = new Stamper('gw', 'run');
    expect(stamper.stampUnwritten(reading('a')).seq).toBe(0);
    stamper.stamp(reading('a'));
    expect(stamper.stampUnwritten(reading('a'))).toMatchObject({ gatewayId: 'gw', runId: 'run', seq: 1 });
    expect(stamper.stamp(reading('a')).seq).toBe(2);
  });

  it('adds the gateway id and run id and keeps the reading as it was', () => {
    const r = reading('a');
    expect(new Stamper('gw-1', 'run-1').stamp(r)).toEqual({ ...r, gatewayId: 'gw-1', runId: 'run-1', seq: 1 });
  });
});

describe('newRunId', () => {
  it('sorts by start time and differs between starts at the same millisecond', () => {
    const early = newRunId(1_700_000_000_000);
    const late = newRunId(1_700_000_000_001);
    expect(early < late).toBe(true);
    expect(newRunId(5)).not.toBe(newRunId(5));
  });

  it('has no character a BullMQ job id forbids', () => {
    expect(newRunId()).toMatch(/^[0-9a-f]{12}-[0-9a-f]{20}$/);
  });
});
