import { Counter, Gauge, type Registry } from 'prom-client';

/** The aggregated OPC UA server's Prometheus metrics, registered on the registry the caller owns. */
export interface OpcuaServerMetrics {
  variables: Gauge<string>;
  sessions: Gauge<string>;
  typeMismatches: Counter<'source'>;
  writes: Counter<'source' | 'result'>;
  certificatesRefused: Counter<'status'>;
  certificateExpirySeconds: Gauge<string>;
}

export function createOpcuaServerMetrics(registry: Registry): OpcuaServerMetrics {
  const registers = [registry];
  return {
    variables: new Gauge({ name: 'opcua_server_variables', help: 'Tag variables in the aggregated OPC UA server.', registers }),
    sessions: new Gauge({ name: 'opcua_server_sessions', help: 'Client sessions open on the aggregated OPC UA server.', registers }),
    typeMismatches: new Counter({
      name: 'opcua_server_type_mismatches_total',
      help: "Readings whose value did not fit their variable's DataType (shown as Bad_TypeMismatch).",
      labelNames: ['source'],
      registers,
    }),
    writes: new Counter({
      name: 'opcua_server_writes_total',
      help: 'Client writes passed through to a source, by resulting StatusCode.',
      labelNames: ['source', 'result'],
      registers,
    }),
    certificatesRefused: new Counter({
      name: 'opcua_server_client_certificates_refused_total',
      help: 'Client certificates refused at connection, by StatusCode (BadCertificateUntrusted: not in trusted/).',
      labelNames: ['status'],
      registers,
    }),
    certificateExpirySeconds: new Gauge({
      name: 'opcua_server_certificate_expiry_seconds',
      help: "Seconds until the server's own certificate expires.",
      registers,
    }),
  };
}
