import { describe, expect, it } from 'vitest';
import { problemsFromZod } from '../../../common/config/issues.ts';
import { modbusConfigSchema } from './config.ts';

function problems(input: unknown): string[] {
  const result = modbusConfigSchema.safeParse(input, { reportInput: true });
  return result.success ? [] : problemsFromZod(result.error.issues).map((p) => `${p.path}: ${p.message}`);
}

const tag = (extra: Record<string, unknown> = {}) => ({ name: 't', register_type: 'holding', address: 0, ...extra });
const base = (tags: unknown[] = [tag()], extra: Record<string, unknown> = {}) => ({ host: 'plc', devices: [{ name: 'd', tags }], ...extra });

describe('modbus config schema', () => {
  it('fills every default', () => {
    expect(modbusConfigSchema.parse(base([tag(), { name: 'c', register_type: 'coil', address: 3 }]))).toEqual({
      transport: 'tcp',
      host: 'plc',
      port: 502,
      timeout_ms: 1000,
      connect_timeout_ms: 5000,
      reconnect_initial_ms: 500,
      reconnect_max_ms: 30000,
      unit_backoff_initial_ms: 1000,
      unit_backoff_max_ms: 30000,
      max_registers_per_read: 125,
      max_bits_per_read: 2000,
      max_read_gap: 0,
      devices: [
        {
          name: 'd',
          unit_id: 1,
          poll_interval_ms: 1000,
          tags: [
            { name: 't', register_type: 'holding', address: 0, type: 'uint16', order: 'ABCD', scale: 1, offset: 0, writable: false },
            { name: 'c', register_type: 'coil', address: 3, type: 'bool', order: 'ABCD', scale: 1, offset: 0, writable: false },
          ],
        },
      ],
    });
  });

  it('takes a serial line for rtu with its defaults', () => {
    const config = modbusConfigSchema.parse({ transport: 'rtu', serial: { path: '/dev/ttyUSB0' }, devices: [{ name: 'd', unit_id: 5, tags: [tag()] }] });
    expect(config.serial).toEqual({ path: '/dev/ttyUSB0', baud_rate: 9600, data_bits: 8, parity: 'none', stop_bits: 1 });
  });

  it.each([
    ['a float in CDAB with scale and unit', [tag({ type: 'float32', order: 'CDAB', scale: 0.1, offset: -40, unit: 'degC', eu_range: { low: -40, high: 150 } })]],
    ['a string', [tag({ type: 'string', length: 10 })]],
    ['a bit of a status word', [tag({ type: 'bool', bit: 15 })]],
    ['a writable coil and holding register', [tag({ writable: true, type: 'int32' }), { name: 'c', register_type: 'coil', address: 0, writable: true }]],
    ['tags in folders', [tag({ name: 'motor/speed' })]],
  ])('accepts %s', (_name, tags) => {
    expect(problems(base(tags))).toEqual([]);
  });

  it.each([
    ['tcp without a host', { devices: [{ name: 'd', tags: [tag()] }] }, ['host: transport tcp needs a host']],
    ['rtu without serial settings', { transport: 'rtu', devices: [{ name: 'd', tags: [tag()] }] }, ['serial: transport rtu needs serial settings (path, baud_rate, ...)']],
    ['rtu with a host', { transport: 'rtu', host: 'x', serial: { path: '/dev/ttyS0' }, devices: [{ name: 'd', tags: [tag()] }] }, ['host: transport rtu reads a serial line: remove host, or use transport rtu_over_tcp']],
    ['serial settings for tcp', base([tag()], { serial: { path: '/dev/ttyS0' } }), ['serial: serial settings apply to transport rtu, not tcp']],
    ['unit id 0 on a serial line', { transport: 'rtu_over_tcp', host: 'x', devices: [{ name: 'd', unit_id: 0, tags: [tag()] }] }, ['devices[0].unit_id: RTU unit ids are 1-247 (0 is broadcast and never answered), got 0']],
    ['an unknown type', base([tag({ type: 'float16' })]), ['devices[0].tags[0].type: expected one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, string; got "float16"']],
    ['an unknown order', base([tag({ type: 'int32', order: 'BACD' })]), ['devices[0].tags[0].order: expected one of ABCD, CDAB, BADC, DCBA; got "BACD"']],
    ['a number in a coil', base([tag({ register_type: 'coil', type: 'int16' })]), ['devices[0].tags[0].type: a coil holds one bit: expected bool, got int16']],
    ['a string without length', base([tag({ type: 'string' })]), ['devices[0].tags[0].length: a string needs its length in registers']],
    ['a length on a number', base([tag({ type: 'int16', length: 2 })]), ['devices[0].tags[0].length: length applies to type string, not int16']],
    ['a bit on an int', base([tag({ type: 'int16', bit: 3 })]), ['devices[0].tags[0].bit: bit applies to type bool, not int16']],
    ['a bit on a coil', base([tag({ register_type: 'coil', bit: 3 })]), ['devices[0].tags[0].bit: bit applies to bools in holding or input registers, not to a coil']],
    ['a scale on a bool', base([tag({ type: 'bool', scale: 2 })]), ['devices[0].tags[0].scale: scale and offset apply to numbers, not to bool']],
    ['a scale of 0', base([tag({ scale: 0 })]), ['devices[0].tags[0].scale: expected a finite number other than 0']],
    ['a float past the last address', base([tag({ type: 'float64', address: 65533 })]), ['devices[0].tags[0].address: float64 at 65533 runs past the last address 65535']],
    ['a writable input register', base([tag({ register_type: 'input', writable: true })]), ['devices[0].tags[0].writable: a input cannot be written: only holding registers and coils']],
    ['a writable bit', base([tag({ type: 'bool', bit: 2, writable: true })]), ['devices[0].tags[0].writable: a single bit of a register cannot be written']],
    ['a string longer than one read', base([tag({ type: 'string', length: 100 })], { max_registers_per_read: 50 }), ['devices[0].tags[0].length: 100 registers exceed max_registers_per_read (50)']],
    ['a read span above the Modbus limit', base([tag()], { max_registers_per_read: 126 }), ['max_registers_per_read: expected at most 125, got number 126']],
    ['an inverted EU range', base([tag({ eu_range: { low: 10, high: 0 } })]), ['devices[0].tags[0].eu_range.high: low must be below high']],
    ['two tags with one name', base([tag(), tag({ address: 1 })]), ['devices[0].tags[1].name: duplicate tag name "t" (also tags[0])']],
    [
      'two devices with one name',
      { host: 'x', devices: [{ name: 'd', tags: [tag()] }, { name: 'd', unit_id: 2, tags: [tag()] }] },
      ['devices[1].name: duplicate device name "d" (also devices[0])'],
    ],
    ['a poll interval of 1 ms', { host: 'x', devices: [{ name: 'd', poll_interval_ms: 1, tags: [tag()] }] }, ['devices[0].poll_interval_ms: expected at least 10, got number 1']],
    ['a backoff ceiling below its start', base([tag()], { unit_backoff_initial_ms: 5000, unit_backoff_max_ms: 1000 }), ['unit_backoff_max_ms: must be at least unit_backoff_initial_ms']],
    ['an unknown key', base([tag({ adress: 3 })]), ['devices[0].tags[0].adress: unknown key']],
    ['a tag name with a space', base([tag({ name: 'a b' })]), ['devices[0].tags[0].name: expected letters, digits, _, . or -, with / between folders, got "a b"']],
  ])('refuses %s', (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });
});
