import type { SourceReading } from '../../common/reading.ts';
import type { Rejection, SourceContext, TagInfo } from '../sources/types.ts';
import { captureLogger } from '../../test/helpers/logs.ts';

/** A SourceContext that keeps what a source emits and rejects, with its log lines. */
export function recordingContext(): SourceContext & { readings: SourceReading[]; rejections: Rejection[]; tags: TagInfo[]; logText: () => string } {
  const { log, text } = captureLogger('source');
  const readings: SourceReading[] = [];
  const rejections: Rejection[] = [];
  const tags: TagInfo[] = [];
  return {
    readings,
    rejections,
    tags,
    logText: text,
    log,
    emit: (r) => readings.push(r),
    reject: (r) => rejections.push(r),
    describe: (declared) => tags.splice(0, tags.length, ...declared),
  };
}
