import { parseArgs } from 'node:util';
import { createLogger } from '../../common/logger.ts';
import { DEFAULT_SIGNAL_INTERVAL_MS, startModbusSim } from './modbus-sim.ts';
import { stopOnSignal } from './stop-on-signal.ts';

const USAGE = `usage: modbus-sim [--host H] [--port N] [--units LIST] [--framing tcp|rtu] [--signal-interval-ms N]

  --host H               address to listen on (default 127.0.0.1)
  --port N               TCP port (default: a free one; the log line "Modbus simulator listening." says which)
  --units LIST           unit ids that answer, e.g. 1,2,5 or 1-20 (default 1); others never answer
  --framing F            tcp: Modbus TCP (default); rtu: RTU frames with CRC over TCP
  --signal-interval-ms N how often the values of SIM_MODBUS_LAYOUT change (default ${DEFAULT_SIGNAL_INTERVAL_MS})`;

const MAX_UNIT_ID = 255;

function unitList(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.split(',')) {
    const [from, to = from] = part.split('-').map((p) => Number(p.trim()));
    if (!Number.isInteger(from) || !Number.isInteger(to) || (from as number) < 0 || (to as number) > MAX_UNIT_ID || (from as number) > (to as number)) {
      throw new Error(`--units: expected ids 0-${MAX_UNIT_ID} like 1,2,5 or 1-20, got "${text}"`);
    }
    for (let id = from as number; id <= (to as number); id++) ids.push(id);
  }
  return ids;
}

function wholeNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got "${text}"`);
  return n;
}

async function main(): Promise<number> {
  let options;
  try {
    const { values } = parseArgs({
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        units: { type: 'string', default: '1' },
        framing: { type: 'string', default: 'tcp' },
        'signal-interval-ms': { type: 'string' },
      },
      strict: true,
    });
    if (values.framing !== 'tcp' && values.framing !== 'rtu') throw new Error(`--framing: expected tcp or rtu, got "${values.framing}"`);
    const port = wholeNumber('port', values.port);
    const signalIntervalMs = wholeNumber('signal-interval-ms', values['signal-interval-ms']);
    options = {
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(signalIntervalMs !== undefined ? { signalIntervalMs } : {}),
      units: unitList(values.units),
      framing: values.framing,
    } as const;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger({ name: 'modbus-sim' });
  let sim;
  try {
    sim = await startModbusSim({ ...options, signals: true, log });
  } catch (err) {
    process.stderr.write(`modbus-sim: ${(err as Error).message}\n`);
    return 1;
  }
  return stopOnSignal(sim);
}

main().then((code) => process.exit(code));
