import { DataType, StatusCodes, Variant, type AddressSpace, type Namespace, type UAObject, type UAVariable } from 'node-opcua';
import type { Logger } from '../common/logger.ts';
import type { SourceStatus } from '../gateway/sources/types.ts';
import type { CertificateState } from './certificate.ts';
import type { SourceNode } from './namespace.ts';

/**
 * Diagnostic variables, refreshed on a timer (never per reading):
 * - Objects/<source>/_Diagnostics: connection state, last error and its time, readings count,
 *   last update time, variables, type mismatches;
 * - Objects/Gateway: uptime, queue depth, spool size (from the gateway), sessions, variables and
 *   the server certificate's expiry.
 */
export interface GatewayFigures {
  uptimeS: number;
  /** Records waiting to reach Redis (in memory and spooled). */
  queueDepth: number;
  /** Bytes of the on-disk spool. */
  spoolBytes: number;
}

export interface ServerFigures {
  sessions: number;
  variables: number;
  certificate: CertificateState | undefined;
}

type Value = number | string | boolean | Date | null;
type Kind = 'Double' | 'UInt32' | 'Int32' | 'UInt64' | 'String' | 'DateTime' | 'Boolean';

const DATA_TYPES: Record<Kind, DataType> = {
  Double: DataType.Double,
  UInt32: DataType.UInt32,
  Int32: DataType.Int32,
  UInt64: DataType.UInt64,
  String: DataType.String,
  DateTime: DataType.DateTime,
  Boolean: DataType.Boolean,
};

/** One diagnostic variable and the value it shows, so unchanged values are not re-sent. */
class DiagnosticVariable {
  #last: Value | undefined = undefined;

  constructor(
    readonly variable: UAVariable,
    readonly kind: Kind,
  ) {}

  set(value: Value): void {
    const key = value instanceof Date ? value.getTime() : value;
    const lastKey = this.#last instanceof Date ? this.#last.getTime() : this.#last;
    if (this.#last !== undefined && key === lastKey) return;
    this.#last = value;
    if (value === null) this.variable.setValueFromSource(new Variant({ dataType: DataType.Null }), StatusCodes.Good);
    else this.variable.setValueFromSource(new Variant({ dataType: DATA_TYPES[this.kind], value }), StatusCodes.Good);
  }
}

export const SOURCE_DIAGNOSTICS_FOLDER = '_Diagnostics';
export const GATEWAY_OBJECT = 'Gateway';

interface SourceDiagnostics {
  state: DiagnosticVariable;
  lastError: DiagnosticVariable;
  lastErrorTime: DiagnosticVariable;
  readings: DiagnosticVariable;
  lastUpdate: DiagnosticVariable;
  variables: DiagnosticVariable;
  typeMismatches: DiagnosticVariable;
}

export class Diagnostics {
  readonly #namespace: Namespace;
  readonly #log: Logger;
  readonly #sources = new WeakMap<SourceNode, SourceDiagnostics>();
  readonly #gateway: Record<string, DiagnosticVariable>;
  #gatewayFailed = false;

  constructor(addressSpace: AddressSpace, namespace: Namespace, log: Logger) {
    this.#namespace = namespace;
    this.#log = log;
    const object = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, nodeId: 's=#Gateway', browseName: GATEWAY_OBJECT });
    const add = (name: string, kind: Kind, description: string) => this.#add(object, `#Gateway.${name}`, name, kind, description);
    this.#gateway = {
      uptime: add('UptimeS', 'Double', 'Seconds since the gateway started.'),
      queueDepth: add('QueueDepth', 'UInt64', 'Records waiting to reach Redis (in memory and spooled).'),
      spoolBytes: add('SpoolBytes', 'UInt64', 'Bytes of the on-disk spool.'),
      sessions: add('Sessions', 'UInt32', 'Client sessions open on this server.'),
      variables: add('Variables', 'UInt32', 'Tag variables in this server.'),
      certNotAfter: add('CertificateNotAfter', 'DateTime', "When the server's certificate expires."),
      certDaysLeft: add('CertificateDaysLeft', 'Int32', "Whole days until the server's certificate expires."),
      certExpiresSoon: add('CertificateExpiresSoon', 'Boolean', 'The certificate is inside its expiry warning window.'),
    };
  }

  /** Hangs the diagnostics folder under a new source folder. */
  addSource(node: SourceNode): void {
    const folder = this.#namespace.addFolder(node.folder, { nodeId: `s=${node.name}#Diagnostics`, browseName: SOURCE_DIAGNOSTICS_FOLDER });
    const add = (name: string, kind: Kind, description: string) => this.#add(folder, `${node.name}#Diagnostics.${name}`, name, kind, description);
    this.#sources.set(node, {
      state: add('State', 'String', 'Connection state: connecting, connected, disconnected, stopped; unknown before the source reported.'),
      lastError: add('LastError', 'String', 'The last error the source reported; empty if none.'),
      lastErrorTime: add('LastErrorTime', 'DateTime', 'When the last error happened.'),
      readings: add('ReadingsCount', 'UInt64', 'Readings received from the source since the gateway started.'),
      lastUpdate: add('LastUpdateTime', 'DateTime', 'When the last reading arrived (gateway time).'),
      variables: add('Variables', 'UInt32', 'Tag variables of this source.'),
      typeMismatches: add('TypeMismatches', 'UInt64', "Readings whose value did not fit their variable's DataType."),
    });
    this.#refreshSource(node);
  }

  refresh(sources: Iterable<SourceNode>, gateway: () => GatewayFigures, server: ServerFigures): void {
    for (const node of sources) this.#refreshSource(node);
    const g = this.#gateway;
    try {
      const figures = gateway();
      g.uptime!.set(figures.uptimeS);
      g.queueDepth!.set(figures.queueDepth);
      g.spoolBytes!.set(figures.spoolBytes);
      this.#gatewayFailed = false;
    } catch (err) {
      if (!this.#gatewayFailed) this.#log.warn({ err }, 'Could not read the gateway figures for the diagnostics; they keep their last values.');
      this.#gatewayFailed = true;
    }
    g.sessions!.set(server.sessions);
    g.variables!.set(server.variables);
    const cert = server.certificate;
    g.certNotAfter!.set(cert ? new Date(cert.notAfter) : null);
    g.certDaysLeft!.set(cert ? cert.daysLeft : null);
    g.certExpiresSoon!.set(cert ? cert.expiresSoon : null);
  }

  #refreshSource(node: SourceNode): void {
    const d = this.#sources.get(node);
    if (!d) return;
    let status: SourceStatus | undefined;
    try {
      status = node.handle?.status();
    } catch (err) {
      status = { state: 'disconnected', lastError: `status() failed: ${(err as Error).message}` };
    }
    d.state.set(status?.state ?? 'unknown');
    d.lastError.set(status?.lastError ?? '');
    d.lastErrorTime.set(status?.lastErrorAt ? new Date(status.lastErrorAt) : null);
    d.readings.set(node.readings);
    d.lastUpdate.set(node.lastReadingUs > 0 ? new Date(Math.floor(node.lastReadingUs / 1000)) : null);
    d.variables.set(node.tags.size);
    d.typeMismatches.set(node.typeMismatches);
  }

  #add(parent: UAObject, nodeId: string, name: string, kind: Kind, description: string): DiagnosticVariable {
    const variable = this.#namespace.addVariable({
      componentOf: parent,
      nodeId: `s=${nodeId}`,
      browseName: name,
      description,
      dataType: kind,
      accessLevel: 'CurrentRead',
      userAccessLevel: 'CurrentRead',
      minimumSamplingInterval: 0,
    });
    return new DiagnosticVariable(variable, kind);
  }
}
