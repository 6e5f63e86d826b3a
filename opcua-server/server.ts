import { hostname as osHostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { invalidateServerCertificateCache, makeSubject, OPCUACertificateManager, OPCUAServer, type UAVariable } from 'node-opcua';
import { Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import type { GatewayEvents } from '../gateway/events.ts';
import { bindEvents } from './bind-events.ts';
import { ensureOwnCertificate, type CertificateState, type OwnCertificateOptions } from './certificate.ts';
import type { OpcuaServerConfig } from './config.ts';
import { Diagnostics, type GatewayFigures } from './diagnostics.ts';
import { createOpcuaServerMetrics } from './metrics.ts';
import { TagTree } from './namespace.ts';
import { applyRolePermissions, securityModes, securityPolicies, userManager } from './security.ts';
import { watchCertificateRefusals } from './trust.ts';
import { assertSettable } from './update.ts';
import { createWriteThrough, type WriteTarget } from './write.ts';
import { compileGlobs } from './glob.ts';

export const APPLICATION_NAME = 'IoT Connector OPC UA Server';
export const PRODUCT_URI = 'urn:iot-connector:opcua-server';
/** ServerStatus.CurrentTime, present in every address space: used to check the node-opcua API at start. */
const SERVER_CURRENT_TIME_NODE = 'ns=0;i=2258';

export interface AggregatedServerDeps {
  config: OpcuaServerConfig;
  events: GatewayEvents;
  log: Logger;
  /** Where metrics are registered; a fresh registry when absent. */
  registry?: Registry;
  /** The gateway's own figures for Objects/Gateway, read every diagnostics_interval_ms. */
  gateway: () => GatewayFigures;
}

export interface OpcuaServerStatus {
  endpointUrl: string;
  sessions: number;
  sources: number;
  variables: number;
  /** Declared tags whose variables are still being built. */
  pendingVariables: number;
  /** The server's own certificate; expiresSoon is the warning. */
  certificate: CertificateState | undefined;
}

export interface AggregatedServer {
  readonly port: number;
  readonly endpointUrl: string;
  status(): OpcuaServerStatus;
  /** Closes client connections and the listening socket; stops listening to the gateway. Safe twice. */
  stop(): Promise<void>;
}

/**
 * Starts the aggregated OPC UA server: listens to the gateway's events at once (what arrives
 * while the server builds its address space is kept and applied), creates or renews the server
 * certificate, then opens the endpoint. Rejects, with nothing left running, if it cannot listen.
 */
export async function startAggregatedServer(deps: AggregatedServerDeps): Promise<AggregatedServer> {
  const { config } = deps;
  const log = deps.log.child({ component: 'opcua-server' });
  const metrics = createOpcuaServerMetrics(deps.registry ?? new Registry());
  const binding = bindEvents(deps.events, log);
  let server: OPCUAServer | undefined;
  let tree: TagTree | undefined;
  const pkiDir = resolve(config.pki_dir);
  const cm = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false });
  const userCm = new OPCUACertificateManager({ rootFolder: join(pkiDir, 'user'), automaticallyAcceptUnknownCertificate: false });
  try {
    const hostname = config.advertised_hostname ?? osHostname();
    await cm.initialize();
    const refusals = watchCertificateRefusals(cm, log, metrics);
    const certificateFile = join(cm.rootDir, 'own', 'certs', 'certificate.pem');
    const ownCertificate: OwnCertificateOptions = {
      cm,
      certificateFile,
      applicationUri: config.application_uri,
      subject: makeSubject(APPLICATION_NAME, hostname),
      dns: [...new Set([hostname, osHostname(), 'localhost'])],
      ip: localAddresses(),
      validityDays: config.certificate.validity_days,
      warningDays: config.certificate.expiry_warning_days,
      renewSelfSigned: config.certificate.renew_self_signed,
      log,
    };
    let certificate = await ensureOwnCertificate(ownCertificate);

    server = new OPCUAServer({
      port: config.port,
      host: config.host,
      hostname,
      resourcePath: config.endpoint_path,
      serverInfo: { applicationUri: config.application_uri, productUri: PRODUCT_URI, applicationName: { text: APPLICATION_NAME, locale: 'en' } },
      buildInfo: { productName: APPLICATION_NAME, productUri: PRODUCT_URI, manufacturerName: 'IoT Connector' },
      serverCertificateManager: cm,
      userCertificateManager: userCm,
      certificateFile,
      privateKeyFile: cm.privateKey,
      securityModes: securityModes(config),
      securityPolicies: securityPolicies(config),
      allowAnonymous: config.allow_anonymous,
      userManager: userManager(config, log),
      maxConnectionsPerEndpoint: config.max_connections_per_endpoint,
      serverCapabilities: { maxSessions: config.max_sessions, minSupportedSampleRate: config.min_sampling_interval_ms },
      isAuditing: false,
    });
    const started = server;
    await started.initialize();
    const addressSpace = started.engine.addressSpace!;
    // Frugal: children are not also installed as JavaScript members of their parent node.
    addressSpace.isFrugal = true;
    assertSettable(addressSpace.findNode(SERVER_CURRENT_TIME_NODE) as UAVariable);
    const namespace = addressSpace.registerNamespace(config.namespace_uri);
    applyRolePermissions(namespace);

    const diagnostics = new Diagnostics(addressSpace, namespace, log);
    const writable = new Map(Object.entries(config.write_through).map(([source, w]) => [source, compileGlobs(w.tags)]));
    const resolveTarget = (variable: UAVariable): WriteTarget | undefined => {
      const id = String(variable.nodeId.value);
      const cut = id.indexOf('/');
      const source = id.slice(0, cut);
      const node = tree?.source(source);
      return node ? { source, tag: id.slice(cut + 1), handle: node.handle } : undefined;
    };
    const writeValue = createWriteThrough({ resolve: resolveTarget, timeoutMs: config.write_timeout_ms, log, metrics });
    tree = new TagTree({
      addressSpace,
      namespace,
      log,
      metrics,
      writeAllowed: (source, tag) => writable.get(source)?.(tag) === true,
      makeWritable: (variable) => Object.assign(variable, { writeValue }),
      onSourceCreated: (node) => diagnostics.addSource(node),
    });
    const liveTree = tree;
    binding.attach(liveTree);

    await started.start();
    const endpointUrl = started.getEndpointUrl();
    const port = started.endpoints[0]?.port ?? config.port;

    const serverFigures = () => ({ sessions: started.currentSessionCount, variables: liveTree.variableCount, certificate });
    const refreshDiagnostics = () => {
      const figures = serverFigures();
      metrics.sessions.set(figures.sessions);
      metrics.certificateExpirySeconds.set(Math.round((Date.parse(certificate.notAfter) - Date.now()) / 1000));
      diagnostics.refresh(liveTree.sources(), deps.gateway, figures);
    };
    refreshDiagnostics();
    const diagnosticsTimer = setInterval(refreshDiagnostics, config.diagnostics_interval_ms).unref();
    const certificateTimer = setInterval(() => {
      void ensureOwnCertificate(ownCertificate).then(
        (state) => {
          if (stopping) return;
          // Renewed here, or replaced on disk by an operator: new connections get the new one.
          if (state.thumbprint !== certificate.thumbprint) {
            invalidateServerCertificateCache(started);
            log.info({ file: state.file, thumbprint: state.thumbprint, notAfter: state.notAfter }, 'Serving a new server certificate to new connections.');
          }
          certificate = state;
        },
        (err: unknown) => log.warn({ err }, 'Could not check or renew the server certificate; will try again at the next check.'),
      );
    }, config.certificate.check_interval_ms).unref();

    log.info(
      { endpointUrl, port, securityModes: config.security_modes, securityPolicies: config.security_policies, allowAnonymous: config.allow_anonymous, pkiDir },
      'OPC UA server listening.',
    );

    let stopping: Promise<void> | undefined;
    return {
      port,
      endpointUrl,
      status: () => ({
        endpointUrl,
        sessions: started.currentSessionCount,
        sources: [...liveTree.sources()].length,
        variables: liveTree.variableCount,
        pendingVariables: liveTree.pendingCount,
        certificate,
      }),
      stop() {
        stopping ??= (async () => {
          binding.detach();
          liveTree.close();
          clearInterval(diagnosticsTimer);
          clearInterval(certificateTimer);
          refusals.flush();
          await started.shutdown(config.shutdown_grace_ms);
          log.info('OPC UA server stopped.');
        })();
        return stopping;
      },
    };
  } catch (err) {
    binding.detach();
    tree?.close();
    await server?.shutdown(0).catch(() => undefined);
    // shutdown() does nothing for a server that never started; release the PKI watchers here.
    await Promise.allSettled([cm.dispose(), userCm.dispose()]);
    throw new Error(`the OPC UA server could not start on ${config.host}:${config.port}: ${(err as Error).message}`, { cause: err });
  }
}

/** Addresses of this host for the certificate's subjectAltName, loopback included. */
function localAddresses(): string[] {
  const addresses = new Set(['127.0.0.1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.startsWith('fe80')) addresses.add(a.address);
  }
  return [...addresses];
}
