import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy, type Namespace } from 'node-opcua';
import type { Logger } from '../../common/logger.ts';
import { freePort } from '../../common/net/free-port.ts';
import { buildSimSpace, type CounterType } from './opcua-sim-space.ts';

export { BIG_INT64, BIG_UINT64, COUNTER_TYPES, TEMPERATURE_RANGE, TYPE_VALUES, type CounterType } from './opcua-sim-space.ts';

export const SIM_NAMESPACE_URI = 'urn:iot-connector:opcua-sim';
export const DEFAULT_SIM_COUNTERS = 100;
export const DEFAULT_SIM_CHANGE_INTERVAL_MS = 1_000;
export const DEFAULT_SIM_LINES = 2;
export const DEFAULT_SIM_MACHINES_PER_LINE = 2;
/** How long shutdown waits for clients to be told before the sockets close. */
const SHUTDOWN_GRACE_MS = 100;
/** The sim serves many benchmark sessions with many items; node-opcua's defaults are smaller. */
const SIM_MAX_SESSIONS = 50;
const SIM_MAX_MONITORED_ITEMS = 1_000_000;

export type SimSecurityMode = 'None' | 'Sign' | 'SignAndEncrypt';
export type SimSecurityPolicy = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';

export interface OpcuaSimOptions {
  /** TCP port on host; 0 or absent picks a free one. */
  port?: number;
  host?: string;
  /** Counter nodes under Sim/Counters, all showing the tick number. */
  counters?: number;
  counterType?: CounterType;
  /** Milliseconds between ticks; 0 leaves ticking to tick(). */
  changeIntervalMs?: number;
  lines?: number;
  machinesPerLine?: number;
  /** Endpoint security modes offered; None only when absent. */
  securityModes?: SimSecurityMode[];
  securityPolicies?: SimSecurityPolicy[];
  /** Users accepted with user name and password; absent: none. */
  users?: { username: string; password: string }[];
  allowAnonymous?: boolean;
  /** The server's PKI folder (own certificate, trusted clients); a temporary folder when absent. */
  pkiDir?: string;
  /** Trust every client certificate (default true: a simulator, not a plant server). */
  autoAcceptClientCertificates?: boolean;
  log: Logger;
}

export interface RunningOpcuaSim {
  endpointUrl: string;
  port: number;
  namespaceUri: string;
  namespaceIndex: number;
  /** NodeIds of the counters, e.g. ns=1;s=Counters.C00000. */
  counterNodeIds: string[];
  pkiDir: string;
  /** The server's certificate file (PEM). */
  certificateFile: string;
  /** Advances every changing node by one tick now. */
  tick(): void;
  ticks(): number;
  /** Stops the change timer; nodes keep their last tick. */
  pause(): void;
  stop(): Promise<void>;
}

/**
 * A node-opcua server for tests, benchmarks and the demo: counters that change together on
 * a timer, one node per builtin type, Bad/Uncertain nodes, analog items with EURange and
 * units, a plant tree for discovery, and writable nodes. See sim/devices/README.md.
 */
export async function startOpcuaSimulator(o: OpcuaSimOptions): Promise<RunningOpcuaSim> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port || (await freePort());
  const ownPki = o.pkiDir === undefined;
  const pkiDir = o.pkiDir ?? mkdtempSync(join(tmpdir(), 'opcua-sim-pki-'));
  const certificateManager = new OPCUACertificateManager({
    rootFolder: pkiDir,
    automaticallyAcceptUnknownCertificate: o.autoAcceptClientCertificates ?? true,
  });
  await certificateManager.initialize();
  const users = o.users ?? [];
  const server = new OPCUAServer({
    port,
    host,
    hostname: host,
    resourcePath: '/sim',
    serverCertificateManager: certificateManager,
    userCertificateManager: certificateManager,
    securityModes: (o.securityModes ?? ['None']).map((m) => MessageSecurityMode[m]),
    securityPolicies: (o.securityPolicies ?? ['None']).map((p) => SecurityPolicy[p]),
    allowAnonymous: o.allowAnonymous ?? true,
    userManager: { isValidUser: (username: string, password: string) => users.some((u) => u.username === username && u.password === password) },
    serverCapabilities: { maxSessions: SIM_MAX_SESSIONS, maxMonitoredItems: SIM_MAX_MONITORED_ITEMS, maxMonitoredItemsPerSubscription: SIM_MAX_MONITORED_ITEMS },
    buildInfo: { productName: 'iot-connector OPC UA simulator' },
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) throw new Error('the OPC UA simulator has no address space after initialize');
  const ns: Namespace = addressSpace.registerNamespace(SIM_NAMESPACE_URI);
  const clock = { tick: 0, at: new Date() };
  const built = buildSimSpace(ns, {
    counters: o.counters ?? DEFAULT_SIM_COUNTERS,
    counterType: o.counterType ?? 'Double',
    lines: o.lines ?? DEFAULT_SIM_LINES,
    machinesPerLine: o.machinesPerLine ?? DEFAULT_SIM_MACHINES_PER_LINE,
    clock,
  });
  await server.start();
  const endpointUrl = `opc.tcp://${host}:${port}/sim`;
  const tick = () => {
    clock.tick++;
    clock.at = new Date();
  };
  const interval = o.changeIntervalMs ?? DEFAULT_SIM_CHANGE_INTERVAL_MS;
  let timer = interval > 0 ? setInterval(tick, interval) : undefined;
  o.log.info({ endpointUrl, counters: built.counterNodeIds.length, changeIntervalMs: interval, namespaceIndex: ns.index }, 'OPC UA simulator listening.');

  let stopping: Promise<void> | undefined;
  return {
    endpointUrl,
    port,
    namespaceUri: SIM_NAMESPACE_URI,
    namespaceIndex: ns.index,
    counterNodeIds: built.counterNodeIds,
    pkiDir,
    certificateFile: server.certificateFile,
    tick,
    ticks: () => clock.tick,
    pause() {
      clearInterval(timer);
      timer = undefined;
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await server.shutdown(SHUTDOWN_GRACE_MS);
        await certificateManager.dispose();
        if (ownPki) rmSync(pkiDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
