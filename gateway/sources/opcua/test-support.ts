import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../common/logger.ts';
import type { SourceReading } from '../../../common/reading.ts';
import { recordingContext } from '../../test-support/context.ts';
import { until } from '../../../test/helpers/wait.ts';
import { opcuaConfigSchema } from './config.ts';
import { OpcuaSource } from './driver.ts';

/** A logger for simulators in tests: they are not what the tests read. */
export const silentLog = createLogger({ name: 'opcua-sim', level: 'silent' });

/** Connecting includes a node-opcua handshake, discovery and item creation: allow for a slow CI box. */
export const CONNECT_DEADLINE_MS = 20_000;

/** A private PKI folder per test file, removed at the end. */
export function tempPki(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'opcua-pki-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type RecordingContext = ReturnType<typeof recordingContext>;

/** Starts a source from raw config (validated like the gateway does) and waits until it reads. */
export async function startSource(name: string, raw: Record<string, unknown>, waitConnected = true): Promise<{ source: OpcuaSource; ctx: RecordingContext }> {
  const source = new OpcuaSource(name, opcuaConfigSchema.parse(raw));
  const ctx = recordingContext();
  await source.start(ctx);
  if (waitConnected) await until('the source connected and reading', () => source.status().state === 'connected', CONNECT_DEADLINE_MS);
  return { source, ctx };
}

/** The readings of one tag, in arrival order. */
export function valuesOf(readings: SourceReading[], tag: string): SourceReading['value'][] {
  return readings.filter((r) => r.tag === tag).map((r) => r.value);
}

/** Parsed log lines with a given message. */
export function logLines(ctx: RecordingContext, msg: string): Array<Record<string, unknown>> {
  return ctx
    .logText()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

