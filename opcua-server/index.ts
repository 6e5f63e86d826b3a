/** The aggregated OPC UA server for SCADA/HMI clients, run inside the gateway process. */
export { startAggregatedServer, type AggregatedServer, type AggregatedServerDeps, type OpcuaServerStatus } from './server.ts';
export { opcuaServerConfigSchema, type OpcuaServerConfig } from './config.ts';
export type { GatewayFigures } from './diagnostics.ts';
export type { CertificateState } from './certificate.ts';
