import { parseArgs } from 'node:util';
import { createLogger } from '../../common/logger.ts';
import { DEFAULT_SIM_DEVICES, DEFAULT_SIM_RATE_PER_S, startMqttSimulator } from './mqtt-sim.ts';
import { stopOnSignal } from './stop-on-signal.ts';

const USAGE = `usage: mqtt-sim [--broker-url URL | --embedded-port PORT] [--rate N] [--devices N]

  --broker-url URL     publish to this broker (default: start an embedded one)
  --embedded-port P    port of the embedded broker on 127.0.0.1 (default: 1883)
  --rate N             messages per second (default: ${DEFAULT_SIM_RATE_PER_S})
  --devices N          simulated devices, 5 tags each (default: ${DEFAULT_SIM_DEVICES})`;

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got "${text}"`);
  return n;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { 'broker-url': { type: 'string' }, 'embedded-port': { type: 'string' }, rate: { type: 'string' }, devices: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger({ name: 'mqtt-sim' });
  let sim;
  try {
    sim = await startMqttSimulator({
      ...(values['broker-url'] ? { brokerUrl: values['broker-url'] } : { embeddedPort: positiveInt('embedded-port', values['embedded-port'], 1883) }),
      ratePerSecond: positiveInt('rate', values.rate, DEFAULT_SIM_RATE_PER_S),
      devices: positiveInt('devices', values.devices, DEFAULT_SIM_DEVICES),
      log,
    });
  } catch (err) {
    process.stderr.write(`mqtt-sim: ${(err as Error).message}\n`);
    return 1;
  }
  return stopOnSignal(sim);
}

main().then((code) => process.exit(code));
