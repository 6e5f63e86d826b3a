import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Key paths whose values never reach a log line. Secret config values are also wrapped in
 * Secret, which prints a placeholder; this list catches what arrives from elsewhere
 * (headers, option objects of libraries).
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'client_secret',
  '*.client_secret',
  'clientSecret',
  '*.clientSecret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'headers.authorization',
  'key',
  '*.key',
  'encryption_key',
  '*.encryption_key',
];

export interface LoggerSettings {
  name: string;
  level?: LogLevel;
  base?: Record<string, unknown>;
}

/** The process's root logger: JSON lines on stdout, one child per component. */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? 'info',
    base: { pid: process.pid, ...settings.base },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
