import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeReading } from '../../common/records/encode.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { faultsSchema } from '../../sim/zerobus/faults.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { mqttReading } from '../../test/helpers/readings.ts';
import { ZerobusClient } from './client.ts';
import { ZerobusError } from './errors.ts';

const MESSAGE = BRONZE_MESSAGE.mqtt;
const BAD_TAG = 'line1/refused';

function records(from: number, count: number, badAt: number[] = []): string[] {
  return Array.from({ length: count }, (_, i) => {
    const reading = mqttReading(from + i);
    return encodeReading(badAt.includes(i) ? { ...reading, tag: BAD_TAG } : reading, 'proto').data;
  });
}

describe('ZerobusClient refusal scopes and lanes', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('hands a refusal on an open stream back with scope request, and one at stream creation with scope stream', async () => {
    const table = 'main.iot.lanes_scope';
    emulator.faults.replace(faultsSchema.parse({ reject_values: [{ table, column: 'tag', value: BAD_TAG }] }));
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    const error = await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 10, [4]) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZerobusError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, scope: 'request' });
    expect((error as Error).message).toContain('record 4: column tag');

    emulator.faults.replace(faultsSchema.parse({ reject_schema_tables: [table] }));
    const refused = await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(20, 5) }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, scope: 'stream' });
    emulator.faults.replace(faultsSchema.parse({}));
    await client.close(1000);
    expect(await emulator.count(table)).toBe(0);
  });

  it('sends isolated batches one at a time, so a refusal concerns only its own batch', async () => {
    const table = 'main.iot.lanes_isolated';
    emulator.faults.replace(faultsSchema.parse({ reject_values: [{ table, column: 'tag', value: BAD_TAG }], ack_delay_ms: 20 }));
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    const batches = [records(1, 10), records(11, 10, [3]), records(21, 10), records(31, 10)];
    const results = await Promise.allSettled(batches.map((r) => client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: r }, 'isolated')));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(client.status()).toEqual([expect.objectContaining({ table, lane: 'isolated', pendingBatches: 0 })]);
    emulator.faults.replace(faultsSchema.parse({}));
    await client.close(1000);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 30, distinct: 30, duplicates: 0 });
  });

  it('tells whether the endpoint is reachable without sending anything', async () => {
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    expect(await client.reachable(2000)).toBe(true);
    await client.close(100);
    const nowhere = new ZerobusClient(emulator.zerobusConfig({ endpoint: '127.0.0.1:1' }), captureLogger().log);
    expect(await nowhere.reachable(300)).toBe(false);
    await nowhere.close(100);
  });
});
