import { parseArgs } from 'node:util';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../common/logger.ts';
import {
  COUNTER_TYPES,
  DEFAULT_SIM_CHANGE_INTERVAL_MS,
  DEFAULT_SIM_COUNTERS,
  startOpcuaSimulator,
  type CounterType,
  type SimSecurityMode,
  type SimSecurityPolicy,
} from './opcua-sim.ts';
import { stopOnSignal } from './stop-on-signal.ts';

const DEFAULT_PORT = 4840;
const EXIT_USAGE = 2;

const USAGE = `usage: opcua-sim [--port P] [--host H] [--counters N] [--counter-type T] [--change-ms MS]
                 [--security MODE,...] [--policies POLICY,...] [--user NAME:PASSWORD ...] [--no-anonymous]
                 [--pki-dir DIR] [--log-level LEVEL]

  --port P          TCP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host H          address to bind and advertise (default 127.0.0.1)
  --counters N      counter nodes under Sim/Counters (default ${DEFAULT_SIM_COUNTERS})
  --counter-type T  ${COUNTER_TYPES.join(', ')} (default Double)
  --change-ms MS    milliseconds between ticks; 0: never (default ${DEFAULT_SIM_CHANGE_INTERVAL_MS})
  --security M,...  None, Sign, SignAndEncrypt (default None)
  --policies P,...  None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss (default None)
  --user N:P        a user name and password the server accepts (repeatable)
  --no-anonymous    refuse anonymous sessions
  --pki-dir DIR     the server's PKI folder (default: a temporary one)

Prints one JSON line {"endpointUrl": ...} on stdout when it listens.`;

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got "${text}"`);
  return n;
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly string[]): T {
  if (!allowed.includes(text)) throw new Error(`--${name}: expected one of ${allowed.join(', ')}, got "${text}"`);
  return text as T;
}

async function main(): Promise<number> {
  let options;
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        counters: { type: 'string' },
        'counter-type': { type: 'string' },
        'change-ms': { type: 'string' },
        security: { type: 'string' },
        policies: { type: 'string' },
        user: { type: 'string', multiple: true },
        'no-anonymous': { type: 'boolean', default: false },
        'pki-dir': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    options = {
      port: wholeNumber('port', values.port, DEFAULT_PORT),
      ...(values.host ? { host: values.host } : {}),
      counters: wholeNumber('counters', values.counters, DEFAULT_SIM_COUNTERS),
      counterType: oneOf<CounterType>('counter-type', values['counter-type'] ?? 'Double', COUNTER_TYPES),
      changeIntervalMs: wholeNumber('change-ms', values['change-ms'], DEFAULT_SIM_CHANGE_INTERVAL_MS),
      securityModes: (values.security ?? 'None').split(',').map((m) => oneOf<SimSecurityMode>('security', m, ['None', 'Sign', 'SignAndEncrypt'])),
      securityPolicies: (values.policies ?? 'None').split(',').map((p) => oneOf<SimSecurityPolicy>('policies', p, ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'])),
      users: (values.user ?? []).map((u) => {
        const at = u.indexOf(':');
        if (at <= 0) throw new Error(`--user: expected NAME:PASSWORD, got "${u}"`);
        return { username: u.slice(0, at), password: u.slice(at + 1) };
      }),
      allowAnonymous: !values['no-anonymous'],
      ...(values['pki-dir'] ? { pkiDir: values['pki-dir'] } : {}),
      logLevel: oneOf<LogLevel>('log-level', values['log-level'], LOG_LEVELS),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const { logLevel, ...simOptions } = options;
  const log = createLogger({ name: 'opcua-sim', level: logLevel }, process.stderr);
  let sim;
  try {
    sim = await startOpcuaSimulator({ ...simOptions, log });
  } catch (err) {
    process.stderr.write(`opcua-sim: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify({ endpointUrl: sim.endpointUrl, port: sim.port, namespaceIndex: sim.namespaceIndex, counters: sim.counterNodeIds.length })}\n`);
  return stopOnSignal(sim);
}

main().then((code) => process.exit(code));
