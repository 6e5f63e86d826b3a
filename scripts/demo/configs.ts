import { join } from 'node:path';

export interface DemoPorts {
  mqtt: number;
  grpc: number;
  emulatorHttp: number;
  gateway: number;
  relay: number;
}

/** The YAML each demo process runs with: everything on 127.0.0.1, secrets for the emulator only. */
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
`,
  };
}
