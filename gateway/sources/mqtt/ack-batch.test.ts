import { Writable } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AckBatch } from './ack-batch.ts';

/** A real Node stream that records each write it is asked to make, with how many chunks it carried. */
function recordingStream() {
  const writes: number[] = [];
  const stream = new Writable({
    write(_chunk, _enc, done) {
      writes.push(1);
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.length);
      done();
    },
  });
  return { stream, writes };
}

describe('AckBatch', () => {
  it('sends the writes of one turn of the event loop together, once it turns', async () => {
    const { stream, writes } = recordingStream();
    const acks = new AckBatch();
    for (let i = 0; i < 5; i++) {
      acks.hold(stream);
      stream.write(Buffer.from([0x40, 2, 0, i]));
    }
    expect(writes).toEqual([]);
    expect(acks.holding).toBe(true);
    await turn();
    expect(writes).toEqual([5]);
    expect(acks.holding).toBe(false);
  });

  it('flush() sends at once, and the turn then has nothing left to do', async () => {
    const { stream, writes } = recordingStream();
    const acks = new AckBatch();
    acks.hold(stream);
    stream.write('a');
    stream.write('b');
    acks.flush();
    await turn();
    expect(writes).toEqual([2]);
    acks.flush();
    stream.write('c');
    await turn();
    expect(writes).toEqual([2, 1]);
  });

  it('holds again on the next burst', async () => {
    const { stream, writes } = recordingStream();
    const acks = new AckBatch();
    for (const burst of [3, 2]) {
      for (let i = 0; i < burst; i++) {
        acks.hold(stream);
        stream.write('x');
      }
      await turn();
    }
    expect(writes).toEqual([3, 2]);
  });

  it('leaves a stream that cannot cork as it is', () => {
    const acks = new AckBatch();
    acks.hold(undefined);
    acks.hold({});
    expect(acks.holding).toBe(false);
  });
});
