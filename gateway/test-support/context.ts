import type { SourceReading } from '../../common/reading.ts';
import type { Rejection, SourceContext } from '../sources/types.ts';
import { captureLogger } from '../../test/helpers/logs.ts';

/** A SourceContext that keeps what a source emits and rejects, with its log lines. */
export function recordingContext(): SourceContext & { readings: SourceReading[]; rejections: Rejection[]; logText: () => string } {
  const { log, text } = captureLogger('source');
  const readings: SourceReading[] = [];
  const rejections: Rejection[] = [];
  return {
    readings,
    rejections,
    logText: text,
    log,
    emit: (r) => readings.push(r),
    reject: (r) => rejections.push(r),
  };
}
