import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../common/logger.ts';

/** A real pino logger whose JSON lines are kept in memory, for tests that read the logs. */
export function captureLogger(name = 'test'): { log: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger({ name, level: 'trace' }, sink);
  return { log, lines, text: () => lines.join('\n') };
}
