/**
 * A Modbus device simulator for tests, benchmarks and the demo: several unit ids behind one
 * TCP port, speaking Modbus TCP (modbus-serial's ServerTCP) or RTU over TCP (modbus-rtu.ts).
 * A unit id with no SimUnit, or a unit marked dead, never answers. With `signals`, every unit
 * carries SIM_MODBUS_LAYOUT, whose values change every signalIntervalMs.
 */
import { createServer, type Server, type Socket } from 'node:net';
import modbusSerial from 'modbus-serial';
import type { Logger } from '../../common/logger.ts';
import { freePort } from '../../common/net/free-port.ts';
import { serveRtu } from './modbus-rtu.ts';
import { SimUnit, type SimDataType, type SimOrder, type SimTable } from './modbus-unit.ts';
import { SIM_TAGS } from './signals.ts';

export { SimUnit, SIM_EXCEPTION, encodeSimValue } from './modbus-unit.ts';
export type { SimDataType, SimOrder, SimTable } from './modbus-unit.ts';

export const DEFAULT_SIGNAL_INTERVAL_MS = 500;
/** ServerTCP answers every unit id; the simulator decides per unit whether to answer. */
const ANY_UNIT_ID = 255;
const LISTEN_ATTEMPTS = 5;
const ADDRESS_IN_USE = 'EADDRINUSE';
const TEMPERATURE_ALARM_C = 72;
const TENTHS = 10;

export interface ModbusSimOptions {
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** tcp: Modbus TCP (MBAP). rtu: RTU frames with CRC over TCP. Default tcp. */
  framing?: 'tcp' | 'rtu';
  /** Unit ids that answer. Default [1]. */
  units?: number[];
  /** Fill every unit with SIM_MODBUS_LAYOUT and keep its values changing. */
  signals?: boolean;
  signalIntervalMs?: number;
  log?: Logger;
}

export interface ModbusSim {
  host: string;
  port: number;
  framing: 'tcp' | 'rtu';
  /** The unit with this id; throws when the simulator has none. */
  unit(unitId: number): SimUnit;
  /** Adds (or returns) a unit that answers. */
  addUnit(unitId: number): SimUnit;
  /** Closes every client connection; the server keeps listening. */
  dropConnections(): void;
  /** Resets every client connection (TCP RST, as a rebooting PLC or a firewall does); the server keeps listening. */
  resetConnections(): void;
  stop(): Promise<void>;
}

/** One tag of the demo register layout, as a gateway config would name it. */
export interface SimLayoutTag {
  name: string;
  registerType: SimTable;
  address: number;
  type: SimDataType | 'bool' | 'string';
  order?: SimOrder;
  length?: number;
  scale?: number;
  unit?: string;
}

/** The registers every unit carries when signals are on (config/gateway.example.yaml reads them). */
export const SIM_MODBUS_LAYOUT: readonly SimLayoutTag[] = [
  { name: 'temperature', registerType: 'holding', address: 0, type: 'float32', order: 'ABCD', unit: 'degC' },
  { name: 'pressure', registerType: 'holding', address: 2, type: 'float32', order: 'CDAB', unit: 'bar' },
  { name: 'speed', registerType: 'holding', address: 4, type: 'uint16', unit: 'rpm' },
  { name: 'setpoint', registerType: 'holding', address: 5, type: 'int16', scale: 0.1, unit: 'degC' },
  { name: 'state', registerType: 'holding', address: 10, type: 'string', length: 8 },
  { name: 'cycles', registerType: 'input', address: 0, type: 'uint32', order: 'CDAB' },
  { name: 'temperature_x10', registerType: 'input', address: 2, type: 'int16', scale: 0.1, unit: 'degC' },
  { name: 'running', registerType: 'coil', address: 0, type: 'bool' },
  { name: 'alarm', registerType: 'discrete_input', address: 0, type: 'bool' },
];
const INITIAL_SETPOINT_X10 = 650;

export async function startModbusSim(options: ModbusSimOptions = {}): Promise<ModbusSim> {
  const host = options.host ?? '127.0.0.1';
  const framing = options.framing ?? 'tcp';
  const units = new Map<number, SimUnit>();
  const addUnit = (id: number) => {
    let unit = units.get(id);
    if (!unit) {
      unit = new SimUnit(id);
      units.set(id, unit);
    }
    return unit;
  };
  for (const id of options.units ?? [1]) addUnit(id);

  const server = framing === 'tcp' ? await listenTcp(host, options.port, units) : await listenRtu(host, options.port ?? 0, units);

  let timer: NodeJS.Timeout | undefined;
  let cycles = 0;
  if (options.signals) {
    for (const unit of units.values()) unit.setValue('holding', 5, 'int16', 'ABCD', INITIAL_SETPOINT_X10);
    const tick = () => {
      cycles++;
      const now = Date.now();
      for (const unit of units.values()) applySignals(unit, now, cycles);
    };
    tick();
    timer = setInterval(tick, options.signalIntervalMs ?? DEFAULT_SIGNAL_INTERVAL_MS);
  }
  options.log?.info({ host, port: server.port, framing, units: [...units.keys()] }, 'Modbus simulator listening.');

  let stopped: Promise<void> | undefined;
  return {
    host,
    port: server.port,
    framing,
    unit(unitId) {
      const unit = units.get(unitId);
      if (!unit) throw new Error(`the simulator has no unit ${unitId}`);
      return unit;
    },
    addUnit,
    dropConnections: () => server.drop(),
    resetConnections: () => server.reset(),
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await server.close();
      })();
      return stopped;
    },
  };
}

/** Writes the layout's values for time `now` (deterministic per unit id and time). */
export function applySignals(unit: SimUnit, now: number, cycles: number): void {
  const d = unit.unitId;
  const value = (name: string) => SIM_TAGS.find((t) => t.name === name)?.value(now, d);
  const temperature = Number(value('temperature'));
  unit.setValue('holding', 0, 'float32', 'ABCD', temperature);
  unit.setValue('holding', 2, 'float32', 'CDAB', Number(value('pressure')));
  unit.setValue('holding', 4, 'uint16', 'ABCD', Number(value('speed_rpm')));
  unit.setString('holding', 10, 8, String(value('state')));
  unit.setValue('input', 0, 'uint32', 'CDAB', cycles);
  unit.setValue('input', 2, 'int16', 'ABCD', Math.round(temperature * TENTHS));
  unit.setBits('coil', 0, [value('running') === true]);
  unit.setBits('discrete_input', 0, [temperature > TEMPERATURE_ALARM_C]);
}

interface Listening {
  port: number;
  drop(): void;
  reset(): void;
  close(): Promise<void>;
}

const never = <T>() => new Promise<T>(() => {});

async function listenTcp(host: string, port: number | undefined, units: Map<number, SimUnit>): Promise<Listening> {
  // Bits are asked for one at a time by ServerTCP, all within one task per request: the first
  // call of a task counts the request, later ones in the same task do not.
  const counted = new Set<SimTable>();
  const bit = (table: 'coil' | 'discrete_input') => (address: number, unitId: number) => {
    const unit = units.get(unitId);
    if (!unit) return never<boolean>();
    const first = !counted.has(table);
    if (first) {
      counted.add(table);
      queueMicrotask(() => counted.delete(table));
    } else unit.requests[table]--;
    const result = unit.read(table, address, 1);
    return Array.isArray(result) ? result[0] === 1 : result.then((v) => v[0] === 1);
  };
  const many = (table: 'holding' | 'input') => (address: number, length: number, unitId: number) => {
    const unit = units.get(unitId);
    if (!unit) return Array.from({ length }, () => never<number>());
    const result = unit.read(table, address, length);
    return Array.isArray(result) ? result : Array.from({ length }, (_, i) => result.then((v) => v[i] as number));
  };
  const one = (table: 'holding' | 'input') => (address: number, unitId: number) => {
    const unit = units.get(unitId);
    if (!unit) return never<number>();
    const result = unit.read(table, address, 1);
    return Array.isArray(result) ? (result[0] as number) : result.then((v) => v[0] as number);
  };
  const write = (table: 'holding' | 'coil') => (address: number, values: number[], unitId: number) => {
    const unit = units.get(unitId);
    return unit ? unit.write(table, address, values) : never<void>();
  };
  const vector = {
    getCoil: bit('coil'),
    getDiscreteInput: bit('discrete_input'),
    getHoldingRegister: one('holding'),
    getInputRegister: one('input'),
    getMultipleHoldingRegisters: many('holding'),
    getMultipleInputRegisters: many('input'),
    setRegister: (address: number, value: number, unitId: number) => write('holding')(address, [value], unitId),
    setRegisterArray: (address: number, values: number[], unitId: number) => write('holding')(address, values, unitId),
    setCoil: (address: number, value: boolean, unitId: number) => write('coil')(address, [value ? 1 : 0], unitId),
  };
  for (let attempt = 1; ; attempt++) {
    const chosen = port ?? (await freePort());
    const server = new modbusSerial.ServerTCP(vector, { host, port: chosen, unitID: ANY_UNIT_ID });
    const error = await new Promise<Error | undefined>((resolve) => {
      server.on('initialized', () => resolve(undefined));
      server.on('serverError', (err: Error | null) => resolve(err ?? new Error('Modbus simulator could not listen')));
    });
    // A client that goes away mid-request is normal here; the server keeps serving others.
    server.on('socketError', () => {});
    if (!error) {
      return {
        port: chosen,
        drop: () => {
          for (const socket of server.socks.keys()) socket.destroy();
        },
        reset: () => {
          for (const socket of server.socks.keys()) socket.resetAndDestroy();
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (port !== undefined || (error as NodeJS.ErrnoException).code !== ADDRESS_IN_USE || attempt >= LISTEN_ATTEMPTS) throw error;
  }
}

async function listenRtu(host: string, port: number, units: Map<number, SimUnit>): Promise<Listening> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveRtu(socket, (id) => units.get(id));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    drop: () => {
      for (const socket of sockets) socket.destroy();
    },
    reset: () => {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
