import { Secret } from '../../common/secret.ts';
import { protocolOf, type GatewayConfig, type SourceConfig } from '../config.ts';

/** What a reload does to the sources, by name. */
export interface SourcePlan {
  added: string[];
  removed: string[];
  /** Connection settings, protocol, table or enabled changed: stopped and started again. */
  restarted: string[];
  /** Only report-by-exception changed: applied in place, the connection untouched. */
  updated: string[];
  unchanged: string[];
}

/**
 * The settings a running gateway cannot change: they keep their old values until a restart.
 * Everything else applies live: sources (with routing.tables, which decides their tables),
 * batching and gateway.stop_timeout_ms.
 */
export const RESTART_REQUIRED = ['gateway.id', 'log', 'redis', 'http', 'routing.record_type', 'queue', 'spool', 'dlq', 'reload', 'opcua_server'] as const;

export interface ReloadPlan {
  sources: SourcePlan;
  batchingChanged: boolean;
  /** Leaf keys that changed and need a restart, e.g. redis.url; they are not applied. */
  restartRequired: string[];
  /** The config the gateway runs after the reload: new where live, old where a restart is needed. */
  effective: GatewayConfig;
}

/** Compares the running config with a new valid one. Pure. */
export function planReload(current: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const restartRequired = RESTART_REQUIRED.flatMap((key) => changedPaths(pick(current, key), pick(next, key), key));
  const effective: GatewayConfig = {
    ...next,
    gateway: { ...next.gateway, id: current.gateway.id },
    log: current.log,
    redis: current.redis,
    http: current.http,
    routing: { ...next.routing, record_type: current.routing.record_type },
    queue: current.queue,
    spool: current.spool,
    dlq: current.dlq,
    reload: current.reload,
  };
  return { sources: planSources(current, effective), batchingChanged: !same(current.batching, next.batching), restartRequired, effective };
}

export function planSources(current: GatewayConfig, next: GatewayConfig): SourcePlan {
  const plan: SourcePlan = { added: [], removed: [], restarted: [], updated: [], unchanged: [] };
  const before = new Map(current.sources.map((s) => [s.name, s]));
  const after = new Map(next.sources.map((s) => [s.name, s]));
  for (const name of before.keys()) if (!after.has(name)) plan.removed.push(name);
  for (const [name, source] of after) {
    const old = before.get(name);
    if (!old) plan.added.push(name);
    else if (!same(connectionPart(current, old), connectionPart(next, source))) plan.restarted.push(name);
    else if (!same(old.report, source.report)) plan.updated.push(name);
    else plan.unchanged.push(name);
  }
  return plan;
}

/** The table a source writes to: its own, else its protocol's default. */
export function tableOf(config: GatewayConfig, source: SourceConfig): string {
  return source.table ?? config.routing.tables[protocolOf(source)];
}

/** Everything about a source except report-by-exception, with its table resolved. */
function connectionPart(config: GatewayConfig, source: SourceConfig): unknown {
  const { report: _report, ...rest } = source;
  return { ...rest, table: tableOf(config, source) };
}

function pick(config: GatewayConfig, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
}

/** Deep equality over validated config values; secrets compare by their value. */
export function same(a: unknown, b: unknown): boolean {
  if (a instanceof Secret || b instanceof Secret) return a instanceof Secret && b instanceof Secret && a.reveal() === b.reveal();
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Dotted paths of the leaves that differ (a secret is a leaf; its value is never shown). */
function changedPaths(a: unknown, b: unknown, path: string): string[] {
  if (same(a, b)) return [];
  const isTree = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Secret);
  if (!isTree(a) || !isTree(b)) return [path];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  return [...keys].flatMap((k) => changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`));
}
