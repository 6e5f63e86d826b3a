import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeApplicationUrn,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  type ClientSession,
  type UserIdentityInfo,
} from 'node-opcua';
import type { Reading, ReadingValue } from '../common/reading.ts';
import { GatewayEvents } from '../gateway/events.ts';
import type { Rejection, SourceContext } from '../gateway/sources/types.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { opcuaServerConfigSchema } from './config.ts';
import type { GatewayFigures } from './diagnostics.ts';
import { startAggregatedServer, type AggregatedServer } from './server.ts';

/** Helpers for the aggregated server's tests: a real server on a free port, real node-opcua clients. */

export const TEST_HOST = '127.0.0.1';
/** Node-opcua clients retry forever by default; tests want an answer. */
const CLIENT_CONNECT_RETRIES = 0;

export interface TestServer {
  server: AggregatedServer;
  events: GatewayEvents;
  dir: string;
  pkiDir: string;
  logText: () => string;
  figures: GatewayFigures;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

/** A server on a free port, bound to 127.0.0.1, with its PKI in a temporary folder. */
export async function startTestServer(overrides: Record<string, unknown> = {}, prepare?: (pkiDir: string) => Promise<void>): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'opcua-server-test-'));
  const pkiDir = join(dir, 'pki');
  await prepare?.(pkiDir);
  const config = opcuaServerConfigSchema.parse({
    enabled: true,
    host: TEST_HOST,
    port: 0,
    advertised_hostname: TEST_HOST,
    pki_dir: pkiDir,
    shutdown_grace_ms: 0,
    namespace_uri: 'urn:test:iot-connector',
    ...overrides,
  });
  const events = new GatewayEvents();
  const { log, text } = captureLogger('opcua-server');
  const figures: GatewayFigures = { uptimeS: 1, queueDepth: 0, spoolBytes: 0 };
  const server = await startAggregatedServer({ config, events, log, gateway: () => figures }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    server,
    events,
    dir,
    pkiDir,
    logText: text,
    figures,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let seq = 0;

/** A stamped reading as the pipeline emits it. Times in microseconds. */
export function reading(source: string, tag: string, value: ReadingValue, extra: Partial<Reading> = {}): Reading {
  const now = Date.now() * 1000;
  return {
    source,
    tag,
    value,
    quality: 0,
    sourceTimeUs: now,
    gatewayTimeUs: now,
    gatewayId: 'gw-test',
    runId: 'run-test',
    seq: ++seq,
    details: { protocol: 'mqtt', topic: tag, qos: 0, retain: false },
    ...extra,
  };
}

export interface ClientPki {
  cm: OPCUACertificateManager;
  applicationUri: string;
  certificateFile: string;
  privateKeyFile: string;
}

/** A client certificate and key made up front, so a test can trust (or not) the client before it connects. */
export async function makeClientPki(dir: string, name: string): Promise<ClientPki> {
  const rootFolder = join(dir, `client-${name}`);
  const cm = new OPCUACertificateManager({ rootFolder, automaticallyAcceptUnknownCertificate: true });
  await cm.initialize();
  const applicationUri = makeApplicationUrn('localhost', `iot-connector-test-${name}`);
  const certificateFile = join(cm.rootDir, 'own', 'certs', 'client_certificate.pem');
  await cm.createSelfSignedCertificate({ applicationUri, subject: `/CN=test-client-${name}`, dns: ['localhost'], ip: [TEST_HOST], startDate: new Date(), validity: 1, outputFile: certificateFile });
  return { cm, applicationUri, certificateFile, privateKeyFile: cm.privateKey };
}

/** Puts a client's certificate into the server's trusted/certs folder. */
export async function trustClient(pkiDir: string, client: ClientPki, name: string): Promise<void> {
  await mkdir(join(pkiDir, 'trusted', 'certs'), { recursive: true });
  await copyFile(client.certificateFile, join(pkiDir, 'trusted', 'certs', `${name}.pem`));
}

export interface ClientOptions {
  pki: ClientPki;
  securityMode?: MessageSecurityMode;
  securityPolicy?: SecurityPolicy;
  identity?: UserIdentityInfo;
}

export interface TestClient {
  client: OPCUAClient;
  session: ClientSession;
  /** The namespace index of the server's namespace URI. */
  ns: number;
  close(): Promise<void>;
}

export function createClient(o: ClientOptions): OPCUAClient {
  return OPCUAClient.create({
    applicationName: 'iot-connector-test-client',
    applicationUri: o.pki.applicationUri,
    clientCertificateManager: o.pki.cm,
    certificateFile: o.pki.certificateFile,
    privateKeyFile: o.pki.privateKeyFile,
    securityMode: o.securityMode ?? MessageSecurityMode.None,
    securityPolicy: o.securityPolicy ?? SecurityPolicy.None,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: CLIENT_CONNECT_RETRIES, initialDelay: 100, maxDelay: 200 },
  });
}

/** Connects and opens a session; closes the client again if the session is refused. */
export async function connect(endpointUrl: string, o: ClientOptions, namespaceUri = 'urn:test:iot-connector'): Promise<TestClient> {
  const client = createClient(o);
  await client.connect(endpointUrl);
  try {
    const session = await client.createSession(o.identity);
    const ns = (await session.readNamespaceArray()).indexOf(namespaceUri);
    return {
      client,
      session,
      ns,
      async close() {
        await session.close().catch(() => undefined);
        await client.disconnect();
      },
    };
  } catch (err) {
    await client.disconnect();
    throw err;
  }
}

/**
 * A SourceContext that does what the pipeline does for the OPC UA server: stamps each reading
 * and announces it, and announces declared tags, on the gateway's event bus.
 */
export function bridgeContext(events: GatewayEvents, source: string, log: SourceContext['log']): SourceContext & { rejections: Rejection[] } {
  const rejections: Rejection[] = [];
  let bridgeSeq = 0;
  return {
    rejections,
    log,
    emit: (r) => events.emit('reading', { ...r, gatewayId: 'gw-test', runId: 'run-test', seq: ++bridgeSeq }),
    reject: (r) => rejections.push(r),
    describe: (tags) => events.emit('tags', source, tags),
  };
}
