import { parseArgs } from 'node:util';

export interface CliOptions {
  configPath: string;
  validateOnly: boolean;
  help: boolean;
}

/** Reads --config/-c, --validate and --help. The config path falls back to an env var, then a default. */
export function parseCli(argv: string[], envVar: string, defaultPath: string, env = process.env): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      validate: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    configPath: values.config ?? env[envVar] ?? defaultPath,
    validateOnly: values.validate ?? false,
    help: values.help ?? false,
  };
}

export function usage(processName: string, envVar: string, defaultPath: string): string {
  return [
    `usage: ${processName} [--config FILE] [--validate]`,
    '',
    `  -c, --config FILE   YAML configuration (default: $${envVar}, else ${defaultPath})`,
    '      --validate      check the configuration, print any problems, and exit',
    '  -h, --help          show this help',
  ].join('\n');
}
