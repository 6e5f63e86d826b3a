import { join } from 'node:path';

export interface DemoPorts {
  mqtt: number;
  modbus: number;
  opcuaSim: number;
  opcuaServer: number;
  grpc: number;
  emulatorHttp: number;
  gateway: number;
  relay: number;
}

/** The tables the demo's three sources land in (the gateway's default per protocol). */
export const DEMO_TABLES = ['main.iot.mqtt_bronze', 'main.iot.modbus_bronze', 'main.iot.opcua_bronze'] as const;

/** The aggregated OPC UA server's endpoint path in the demo. */
export const DEMO_OPCUA_PATH = '/connector';

/**
 * The YAML each demo process runs with: everything on 127.0.0.1, secrets for the emulator and
 * the local OPC UA server only. The gateway reads all three simulators and serves everything
 * it reads on its aggregated OPC UA server (anonymous read-only, or the operator user, who
 * may write the two setpoints through to the devices).
 */
export function demoConfigs(o: { demoDir: string; redisUrl: string; prefix: string; ports: DemoPorts }): Record<'emulator' | 'relay' | 'gateway', string> {
  return {
    emulator: `log: { level: info }
grpc: { host: 127.0.0.1, port: ${o.ports.grpc} }
http: { host: 127.0.0.1, port: ${o.ports.emulatorHttp} }
data_dir: ${JSON.stringify(join(o.demoDir, 'zerobus'))}
`,
    relay: `relay: { id: demo-relay }
redis: { url: ${JSON.stringify(o.redisUrl)}, prefix: ${o.prefix} }
http: { host: 127.0.0.1, port: ${o.ports.relay} }
zerobus:
  endpoint: 127.0.0.1:${o.ports.grpc}
  workspace_url: http://127.0.0.1:${o.ports.emulatorHttp}
  workspace_id: "1234567890123456"
  client_id: demo-client
  client_secret: demo-secret
  insecure: true
workers: { concurrency: 4, discovery_interval_ms: 1000 }
`,
    gateway: `gateway: { id: demo-gateway }
redis: { url: ${JSON.stringify(o.redisUrl)}, prefix: ${o.prefix} }
http: { host: 127.0.0.1, port: ${o.ports.gateway} }
batching: { max_records: 500, max_wait_ms: 200 }
spool: { dir: ${JSON.stringify(join(o.demoDir, 'spool'))} }
opcua_server:
  enabled: true
  host: 127.0.0.1
  port: ${o.ports.opcuaServer}
  endpoint_path: ${DEMO_OPCUA_PATH}
  advertised_hostname: 127.0.0.1
  security_modes: [None, SignAndEncrypt]   # None only because the demo listens on 127.0.0.1
  allow_anonymous: true
  users:
    - { username: operator, password: "\${DEMO_OPERATOR_PASSWORD:-demo-operator}", can_write: true }
  pki_dir: ${JSON.stringify(join(o.demoDir, 'opcua-server-pki'))}
  write_through:
    line1-plc: { tags: ["press1/setpoint"] }
    plant-opcua: { tags: ["line1/setpoint"] }
sources:
  - name: site1-mqtt
    mqtt:
      url: mqtt://127.0.0.1:${o.ports.mqtt}
      subscriptions:
        - topic: plant/site1/+/+/+
          qos: 1
          value_path: value
          timestamp_path: ts
          tag: "{2}/{3}/{4}"
  - name: line1-plc
    modbus:
      transport: tcp
      host: 127.0.0.1
      port: ${o.ports.modbus}
      devices:
        - name: press1
          unit_id: 1
          poll_interval_ms: 1000
          tags:
            - { name: temperature, register_type: holding, address: 0, type: float32, order: ABCD, unit: degC, eu_range: { low: 0, high: 120 } }
            - { name: pressure, register_type: holding, address: 2, type: float32, order: CDAB, unit: bar }
            - { name: speed, register_type: holding, address: 4, type: uint16, unit: rpm }
            - { name: setpoint, register_type: holding, address: 5, type: int16, scale: 0.1, unit: degC, writable: true }
            - { name: state, register_type: holding, address: 10, type: string, length: 8 }
            - { name: cycles, register_type: input, address: 0, type: uint32, order: CDAB }
            - { name: running, register_type: coil, address: 0 }
            - { name: alarm, register_type: discrete_input, address: 0 }
  - name: plant-opcua
    opcua:
      endpoint_url: opc.tcp://127.0.0.1:${o.ports.opcuaSim}/sim
      security: { mode: None, pki_dir: ${JSON.stringify(join(o.demoDir, 'opcua-client-pki'))} }
      auth: { type: anonymous }
      groups:
        - name: fast
          publishing_interval_ms: 500
          nodes:
            - { node_id: "nsu=urn:iot-connector:opcua-sim;s=Analog.Temperature", tag: line1/temperature }
            - { node_id: "nsu=urn:iot-connector:opcua-sim;s=Writable.Setpoint", tag: line1/setpoint, writable: true }
        - name: plant
          publishing_interval_ms: 1000
          discover:
            - { from: /Objects/2:Sim/2:Plant, max_depth: 3 }
`,
  };
}
