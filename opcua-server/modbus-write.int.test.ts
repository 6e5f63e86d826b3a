import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AttributeIds, DataType, UserTokenType } from 'node-opcua';
import { modbusConfigSchema } from '../gateway/sources/modbus/config.ts';
import { ModbusSource } from '../gateway/sources/modbus/driver.ts';
import { SIM_EXCEPTION, startModbusSim, type ModbusSim } from '../sim/devices/modbus-sim.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { until } from '../test/helpers/wait.ts';
import { bridgeContext, connect, makeClientPki, startTestServer, type TestClient, type TestServer } from './test-support.ts';

/**
 * Write-through end to end: an OPC UA client writes a variable of the aggregated server, the
 * real Modbus driver writes the holding register of a Modbus TCP server (modbus-serial
 * ServerTCP in the device simulator), and the next poll reads it back.
 */
const POLL_MS = 100;

let sim: ModbusSim;
let source: ModbusSource;
let t: TestServer;
let client: TestClient;
let clientDir: string;

beforeAll(async () => {
  sim = await startModbusSim({ host: '127.0.0.1' });
  sim.unit(1).setRegisters('holding', 0, [500, 7]);
  t = await startTestServer({
    security_modes: ['None'],
    users: [{ username: 'operator', password: 'operator-secret', can_write: true }],
    write_through: { press: { tags: ['press1/*'] } },
  });
  const config = modbusConfigSchema.parse({
    host: '127.0.0.1',
    port: sim.port,
    timeout_ms: 1_000,
    devices: [
      {
        name: 'press1',
        poll_interval_ms: POLL_MS,
        tags: [
          { name: 'setpoint', register_type: 'holding', address: 0, writable: true, unit: 'rpm', description: 'Spindle speed setpoint' },
          { name: 'actual', register_type: 'holding', address: 1 },
        ],
      },
    ],
  });
  source = new ModbusSource('press', config);
  await source.start(bridgeContext(t.events, 'press', captureLogger('modbus').log));
  t.events.emit('sourceAdded', { name: 'press', protocol: 'modbus', table: 'main.iot.modbus_bronze', status: () => source.status(), write: (tag, value) => source.write(tag, value) });
  clientDir = await mkdtemp(join(tmpdir(), 'opcua-client-test-'));
  client = await connect(t.server.endpointUrl, {
    pki: await makeClientPki(clientDir, 'operator'),
    identity: { type: UserTokenType.UserName, userName: 'operator', password: 'operator-secret' },
  });
});

afterAll(async () => {
  await client?.close();
  await source?.stop();
  await t?.close();
  await sim?.stop();
  await rm(clientDir, { recursive: true, force: true });
});

const nodeId = (tag: string) => `ns=${client.ns};s=press/${tag}`;
const read = (tag: string) => client.session.read({ nodeId: nodeId(tag), attributeId: AttributeIds.Value });
const write = (tag: string, value: number) => client.session.write({ nodeId: nodeId(tag), attributeId: AttributeIds.Value, value: { value: { dataType: DataType.UInt16, value } } });

it('writes a holding register of the Modbus device through the driver, and the next poll reads it back', async () => {
  await until('the first poll', async () => (await read('press1/setpoint')).value.value === 500);
  expect((await client.session.read({ nodeId: nodeId('press1/setpoint'), attributeId: AttributeIds.DataType })).value.value.toString()).toBe('ns=0;i=5'); // UInt16

  expect((await write('press1/setpoint', 1234)).name).toBe('Good');
  const confirmedAt = Date.now();
  expect(sim.unit(1).holding[0]).toBe(1234);
  // The server shows the confirmed value at once; a poll after the write carries a later source time.
  await until('a poll after the write', async () => {
    const dv = await read('press1/setpoint');
    return dv.value.value === 1234 && dv.sourceTimestamp!.getTime() > confirmedAt;
  });
  expect(source.status().writes).toBe(1);
});

it('answers BadNotWritable for a read-only register and leaves the device alone', async () => {
  expect((await write('press1/actual', 99)).name).toBe('BadNotWritable');
  expect(sim.unit(1).holding[1]).toBe(7);
  expect(source.status().writes).toBe(1);
});

it("answers BadDeviceFailure when the device refuses the write", async () => {
  sim.unit(1).setException('holding', 0, 1, SIM_EXCEPTION.illegalDataAddress);
  try {
    expect((await write('press1/setpoint', 42)).name).toBe('BadDeviceFailure');
  } finally {
    sim.unit(1).clearExceptions();
  }
  expect(sim.unit(1).holding[0]).toBe(1234);
});
