import { z } from 'zod';
import type { ModbusRegisterType } from '../../../common/reading.ts';
import { BYTE_ORDERS, MODBUS_DATA_TYPES, registerCount, type ModbusDataType } from './decode.ts';
import { MODBUS_MAX_READ_BITS, MODBUS_MAX_READ_REGISTERS } from './plan.ts';

export const DEFAULT_MODBUS_TCP_PORT = 502;
export const DEFAULT_UNIT_ID = 1;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
export const MIN_POLL_INTERVAL_MS = 10;
export const MAX_POLL_INTERVAL_MS = 86_400_000;
export const DEFAULT_TIMEOUT_MS = 1_000;
export const MIN_TIMEOUT_MS = 10;
export const MAX_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const MAX_CONNECT_TIMEOUT_MS = 120_000;
export const DEFAULT_RECONNECT_INITIAL_MS = 500;
export const DEFAULT_RECONNECT_MAX_MS = 30_000;
export const DEFAULT_UNIT_BACKOFF_INITIAL_MS = 1_000;
export const DEFAULT_UNIT_BACKOFF_MAX_MS = 30_000;
export const MIN_BACKOFF_MS = 10;
export const MAX_BACKOFF_MS = 3_600_000;
export const DEFAULT_BAUD_RATE = 9_600;
export const MAX_BAUD_RATE = 4_000_000;
/** FC 16 writes at most 123 registers. */
export const MODBUS_MAX_WRITE_REGISTERS = 123;
/** Unit ids on a serial line: 0 is broadcast (never answered), 248-255 are reserved. */
export const MIN_SERIAL_UNIT_ID = 1;
export const MAX_SERIAL_UNIT_ID = 247;
const MAX_UNIT_ID = 255;
const MAX_ADDRESS = 65_535;
const ADDRESS_SPACE = 65_536;
const MAX_BIT = 15;

const NAME = /^[A-Za-z0-9_.-]+$/;
const TAG_NAME = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

const REGISTER_TYPES = ['coil', 'discrete_input', 'holding', 'input'] as const satisfies readonly ModbusRegisterType[];

/** The data type a tag has when its config names none. */
export function defaultDataType(registerType: ModbusRegisterType): ModbusDataType {
  return registerType === 'coil' || registerType === 'discrete_input' ? 'bool' : 'uint16';
}

const euRangeSchema = z
  .object({
    low: z.number().describe('Lowest value the tag is expected to take, in engineering units.'),
    high: z.number().describe('Highest value the tag is expected to take, in engineering units.'),
  })
  .strict()
  .refine((r) => r.low < r.high, { message: 'low must be below high', path: ['high'] })
  .describe('Engineering-unit range, declared to the aggregated OPC UA server (EURange).');

export const tagSchema = z
  .object({
    name: z
      .string()
      .regex(TAG_NAME, { message: 'expected letters, digits, _, . or -, with / between folders' })
      .describe('Tag name under its device; the reading tag is <device>/<name>. "/" makes folders, e.g. motor/speed.'),
    register_type: z.enum(REGISTER_TYPES).describe('Where the value lives: coil (FC 1), discrete_input (FC 2), holding (FC 3) or input (FC 4).'),
    address: z.number().int().min(0).max(MAX_ADDRESS).describe('First register or bit, 0-based as on the wire (register 40001 is holding address 0).'),
    type: z
      .enum(MODBUS_DATA_TYPES)
      .optional()
      .meta({ description: 'Data type: bool, int16, uint16, int32, uint32, int64, uint64, float32, float64 or string.', 'x-default': 'bool (coils, discrete inputs), uint16 (registers)' }),
    order: z
      .enum(BYTE_ORDERS)
      .default('ABCD')
      .describe('Word and byte order of multi-byte values: ABCD (big-endian, the Modbus standard), CDAB (word swap), BADC (byte swap), DCBA (little-endian).'),
    length: z.number().int().min(1).max(MODBUS_MAX_READ_REGISTERS).optional().describe('Registers a string occupies (2 characters each); required for type string.'),
    bit: z.number().int().min(0).max(MAX_BIT).optional().describe('For a bool in a holding or input register: the bit to read, 0 = least significant. Unset: true when the register is not 0.'),
    scale: z
      .number()
      .refine((s) => s !== 0 && Number.isFinite(s), { message: 'expected a finite number other than 0' })
      .default(1)
      .describe('Multiplier applied to the raw value: value = raw × scale + offset.'),
    offset: z.number().default(0).describe('Added after scale: value = raw × scale + offset.'),
    unit: z.string().min(1).optional().describe('Engineering unit, e.g. degC or kW; carried in every reading and declared to OPC UA.'),
    eu_range: euRangeSchema.optional(),
    writable: z.boolean().default(false).describe('Accept writes from the aggregated OPC UA server (holding registers and coils only).'),
    description: z.string().optional().describe('Free text shown as the OPC UA description.'),
  })
  .strict()
  .superRefine((tag, ctx) => {
    const type = tag.type ?? defaultDataType(tag.register_type);
    const bits = tag.register_type === 'coil' || tag.register_type === 'discrete_input';
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (bits && type !== 'bool') issue('type', `a ${tag.register_type} holds one bit: expected bool, got ${type}`);
    if (bits && tag.bit !== undefined) issue('bit', `bit applies to bools in holding or input registers, not to a ${tag.register_type}`);
    if (!bits && tag.bit !== undefined && type !== 'bool') issue('bit', `bit applies to type bool, not ${type}`);
    if (type === 'string' && tag.length === undefined) issue('length', 'a string needs its length in registers');
    if (type !== 'string' && tag.length !== undefined) issue('length', `length applies to type string, not ${type}`);
    if ((type === 'bool' || type === 'string') && (tag.scale !== 1 || tag.offset !== 0)) issue('scale', `scale and offset apply to numbers, not to ${type}`);
    const width = registerCount(type, tag.length);
    if (tag.address + width > ADDRESS_SPACE) issue('address', `${type} at ${tag.address} runs past the last address ${MAX_ADDRESS}`);
    if (tag.writable) {
      if (tag.register_type !== 'holding' && tag.register_type !== 'coil') issue('writable', `a ${tag.register_type} cannot be written: only holding registers and coils`);
      else if (tag.bit !== undefined) issue('writable', 'a single bit of a register cannot be written');
      else if (width > MODBUS_MAX_WRITE_REGISTERS) issue('writable', `one write carries at most ${MODBUS_MAX_WRITE_REGISTERS} registers, this tag has ${width}`);
    }
  })
  .transform((tag) => ({ ...tag, type: tag.type ?? defaultDataType(tag.register_type) }))
  .describe('One value on the device.');

export const deviceSchema = z
  .object({
    name: z.string().regex(NAME, { message: 'expected letters, digits, _, . or -' }).describe('Device name; it leads the tag paths of its tags (<device>/<tag>).'),
    unit_id: z.number().int().min(0).max(MAX_UNIT_ID).default(DEFAULT_UNIT_ID).describe('Modbus unit (slave) id. Serial lines use 1-247; TCP devices often answer any id.'),
    poll_interval_ms: z
      .number()
      .int()
      .min(MIN_POLL_INTERVAL_MS)
      .max(MAX_POLL_INTERVAL_MS)
      .default(DEFAULT_POLL_INTERVAL_MS)
      .describe('How often this device is read. A poll still running when the next is due skips it (counted).'),
    timeout_ms: z.number().int().min(MIN_TIMEOUT_MS).max(MAX_TIMEOUT_MS).optional().describe("Longest wait for this device's answer; default: the source's timeout_ms."),
    tags: z.array(tagSchema).min(1).describe('The values to read.'),
  })
  .strict()
  .superRefine((device, ctx) => {
    const seen = new Map<string, number>();
    device.tags.forEach((tag, index) => {
      const first = seen.get(tag.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['tags', index, 'name'], message: `duplicate tag name "${tag.name}" (also tags[${first}])` });
      else seen.set(tag.name, index);
    });
  })
  .describe('One unit id on the connection, polled on its own schedule.');

const serialSchema = z
  .object({
    path: z.string().min(1).describe('Serial device, e.g. /dev/ttyUSB0 or /dev/ttyS1.'),
    baud_rate: z.number().int().min(1).max(MAX_BAUD_RATE).default(DEFAULT_BAUD_RATE).describe('Bits per second, e.g. 9600 or 19200.'),
    data_bits: z.literal([7, 8]).default(8).describe('Data bits per character: 8 (RTU) or 7.'),
    parity: z.enum(['none', 'even', 'odd']).default('none').describe('Parity: none, even or odd. The Modbus standard is even; many devices use none.'),
    stop_bits: z.literal([1, 2]).default(1).describe('Stop bits: 1, or 2 (the standard when parity is none).'),
  })
  .strict()
  .describe('Serial line settings, for transport rtu.');

export const modbusConfigSchema = z
  .object({
    transport: z
      .enum(['tcp', 'rtu_over_tcp', 'rtu'])
      .default('tcp')
      .describe('tcp: Modbus TCP (MBAP). rtu_over_tcp: RTU frames with CRC over a TCP socket (serial device servers). rtu: a serial line.'),
    host: z.string().min(1).optional().describe('Device or device server host name or IP, for tcp and rtu_over_tcp.'),
    port: z.number().int().min(1).max(65_535).default(DEFAULT_MODBUS_TCP_PORT).describe('TCP port, for tcp and rtu_over_tcp.'),
    serial: serialSchema.optional(),
    timeout_ms: z.number().int().min(MIN_TIMEOUT_MS).max(MAX_TIMEOUT_MS).default(DEFAULT_TIMEOUT_MS).describe('Longest wait for an answer to one request.'),
    connect_timeout_ms: z.number().int().min(MIN_TIMEOUT_MS).max(MAX_CONNECT_TIMEOUT_MS).default(DEFAULT_CONNECT_TIMEOUT_MS).describe('Longest wait to open the connection.'),
    reconnect_initial_ms: z.number().int().min(MIN_BACKOFF_MS).max(MAX_BACKOFF_MS).default(DEFAULT_RECONNECT_INITIAL_MS).describe('First wait before reconnecting; doubles per failed attempt.'),
    reconnect_max_ms: z.number().int().min(MIN_BACKOFF_MS).max(MAX_BACKOFF_MS).default(DEFAULT_RECONNECT_MAX_MS).describe('Longest wait between reconnect attempts.'),
    unit_backoff_initial_ms: z
      .number()
      .int()
      .min(MIN_BACKOFF_MS)
      .max(MAX_BACKOFF_MS)
      .default(DEFAULT_UNIT_BACKOFF_INITIAL_MS)
      .describe('After a device times out, the wait before it is tried again; doubles per timeout, so a dead unit id costs the others little.'),
    unit_backoff_max_ms: z.number().int().min(MIN_BACKOFF_MS).max(MAX_BACKOFF_MS).default(DEFAULT_UNIT_BACKOFF_MAX_MS).describe('Longest wait between tries of a device that does not answer.'),
    max_registers_per_read: z
      .number()
      .int()
      .min(1)
      .max(MODBUS_MAX_READ_REGISTERS)
      .default(MODBUS_MAX_READ_REGISTERS)
      .describe('Most registers one read request spans; lower it for devices that refuse long reads.'),
    max_bits_per_read: z.number().int().min(1).max(MODBUS_MAX_READ_BITS).default(MODBUS_MAX_READ_BITS).describe('Most coils or discrete inputs one read request spans.'),
    max_read_gap: z
      .number()
      .int()
      .min(0)
      .max(MODBUS_MAX_READ_REGISTERS)
      .default(0)
      .describe('Unused registers (or bits) one request may read across to join two tags; 0 joins only adjacent tags. Gaps the device does not have make it answer with an exception.'),
    devices: z.array(deviceSchema).min(1).describe('The unit ids read over this connection.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const serialLine = config.transport === 'rtu';
    if (serialLine && config.serial === undefined) issue(['serial'], 'transport rtu needs serial settings (path, baud_rate, ...)');
    if (serialLine && config.host !== undefined) issue(['host'], 'transport rtu reads a serial line: remove host, or use transport rtu_over_tcp');
    if (!serialLine && config.host === undefined) issue(['host'], `transport ${config.transport} needs a host`);
    if (!serialLine && config.serial !== undefined) issue(['serial'], `serial settings apply to transport rtu, not ${config.transport}`);
    if (config.reconnect_max_ms < config.reconnect_initial_ms) issue(['reconnect_max_ms'], 'must be at least reconnect_initial_ms');
    if (config.unit_backoff_max_ms < config.unit_backoff_initial_ms) issue(['unit_backoff_max_ms'], 'must be at least unit_backoff_initial_ms');
    const names = new Map<string, number>();
    config.devices.forEach((device, d) => {
      const first = names.get(device.name);
      if (first !== undefined) issue(['devices', d, 'name'], `duplicate device name "${device.name}" (also devices[${first}])`);
      else names.set(device.name, d);
      if (config.transport !== 'tcp' && (device.unit_id < MIN_SERIAL_UNIT_ID || device.unit_id > MAX_SERIAL_UNIT_ID)) {
        issue(['devices', d, 'unit_id'], `RTU unit ids are ${MIN_SERIAL_UNIT_ID}-${MAX_SERIAL_UNIT_ID} (0 is broadcast and never answered), got ${device.unit_id}`);
      }
      device.tags.forEach((tag, t) => {
        const width = registerCount(tag.type, tag.length);
        if (width > config.max_registers_per_read) {
          issue(['devices', d, 'tags', t, 'length'], `${width} registers exceed max_registers_per_read (${config.max_registers_per_read})`);
        }
      });
    });
  })
  .describe('Modbus source: polls the devices on one Modbus TCP connection, RTU-over-TCP connection or serial line.');

export type ModbusConfig = z.output<typeof modbusConfigSchema>;
export type ModbusDeviceConfig = z.output<typeof deviceSchema>;
export type ModbusTagConfig = z.output<typeof tagSchema>;
