import type { z } from 'zod';
import { parseCli, usage } from '../config/cli.ts';
import { ConfigError, loadConfigFile, parseConfigText } from '../config/load.ts';
import { createLogger, type LogLevel, type Logger } from '../logger.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface MainSpec<S extends z.ZodType, R extends { stop(): Promise<void> }> {
  /** Process name, as in logs and messages: gateway, relay, emulator. */
  name: string;
  envVar: string;
  /** Config file when neither --config nor the env var names one; '' runs on schema defaults. */
  defaultPath: string;
  schema: S;
  logLevel(config: z.output<S>): LogLevel;
  /** configFile is the file the config was read from, '' when it came from defaults. */
  start(config: z.output<S>, log: Logger, configFile: string): Promise<R>;
  /** Logs the start line with what the operator needs to know. */
  started(running: R, config: z.output<S>, log: Logger, configPath: string): void;
  /** Called on SIGHUP while running (e.g. reload the config). Without it SIGHUP keeps Node's default. */
  onSighup?(running: R, log: Logger): void;
}

/**
 * The one lifecycle every process shares, and the only code that exits: parse arguments,
 * load and validate the config (starting nothing when it is wrong), start, then stop on
 * SIGINT/SIGTERM. A second signal exits at once with 1. SIGHUP goes to spec.onSighup, if any.
 */
export function runMain<S extends z.ZodType, R extends { stop(): Promise<void> }>(spec: MainSpec<S, R>): void {
  main(spec, process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${spec.name}: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}

async function main<S extends z.ZodType, R extends { stop(): Promise<void> }>(spec: MainSpec<S, R>, argv: string[]): Promise<number> {
  const help = usage(spec.name, spec.envVar, spec.defaultPath || '(built-in defaults)');
  let cli;
  try {
    cli = parseCli(argv, spec.envVar, spec.defaultPath);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${help}\n`);
    return EXIT_USAGE;
  }
  if (cli.help) {
    process.stdout.write(`${help}\n`);
    return EXIT_OK;
  }
  const configPath = cli.configPath || '(defaults)';
  let config: z.output<S>;
  try {
    config = cli.configPath ? await loadConfigFile(cli.configPath, spec.schema) : parseConfigText('{}', spec.schema, process.env, configPath);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(err.lines().map((line) => `${line}\n`).join(''));
    return EXIT_USAGE;
  }
  if (cli.validateOnly) {
    process.stdout.write(`config ok: ${configPath}\n`);
    return EXIT_OK;
  }

  const log = createLogger({ name: spec.name, level: spec.logLevel(config) });
  const title = spec.name.charAt(0).toUpperCase() + spec.name.slice(1);
  let running: R;
  try {
    running = await spec.start(config, log, cli.configPath);
  } catch (err) {
    log.fatal({ err }, `${title} failed to start.`);
    return EXIT_FAILURE;
  }
  spec.started(running, config, log, configPath);
  const onSighup = spec.onSighup;
  // Left in place during the stop too, so a late SIGHUP does not take Node's default (exit).
  if (onSighup) process.on('SIGHUP', () => onSighup(running, log));

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const force = (second: NodeJS.Signals) => {
    log.warn({ signal: second }, 'Second signal; exiting without waiting for the stop to finish.');
    process.exit(EXIT_FAILURE);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  log.info({ signal }, `Stopping ${spec.name}.`);
  await running.stop();
  return EXIT_OK;
}
