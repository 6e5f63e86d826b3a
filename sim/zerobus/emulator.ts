import { serve, type ServerType } from '@hono/node-server';
import { resolve } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import type { EmulatorConfig } from './config.ts';
import { Faults } from './faults.ts';
import { GrpcListener } from './grpc-server.ts';
import { createHttpApp } from './http.ts';
import { RowStore } from './store.ts';
import { serveStream } from './stream.ts';
import { TokenStore } from './tokens.ts';

export interface RunningEmulator {
  grpcPort: number;
  httpPort: number;
  /** host:port for a Zerobus client's endpoint (plaintext). */
  grpcAddress: string;
  /** The workspace URL whose /oidc/v1/token issues tokens. */
  workspaceUrl: string;
  dataDir: string;
  tokens: TokenStore;
  faults: Faults;
  /** Drops every gRPC connection; with outageMs, refuses new ones for that long. */
  drop(outageMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the Zerobus emulator: a plaintext gRPC server plus the HTTP token endpoint and admin API. */
export async function startEmulator(config: EmulatorConfig, log: Logger): Promise<RunningEmulator> {
  const dataDir = resolve(config.data_dir);
  const store = new RowStore(dataDir, config.fsync);
  for (const { table, truncatedBytes } of await store.init()) {
    log.warn({ table, truncatedBytes }, 'Cut off a row left half-written by an earlier run; it was never acked.');
  }
  const tokens = new TokenStore();
  const faults = new Faults(config.faults);
  const streamLog = log.child({ component: 'stream' });
  const grpc: GrpcListener = new GrpcListener(config.grpc.host, (call) =>
    serveStream(call, { tokens, store, faults, log: streamLog, dropConnections: () => void grpc.drop(0) }),
  );
  let grpcPort: number;
  try {
    grpcPort = await grpc.listen(config.grpc.port);
  } catch (err) {
    await store.close();
    throw err;
  }
  const drop = async (outageMs = 0) => {
    log.info({ outageMs }, 'Dropping every gRPC connection.');
    await grpc.drop(outageMs);
  };
  const app = createHttpApp({ config, tokens, store, faults, drop, log: log.child({ component: 'http' }) });
  let server: ServerType;
  let httpPort: number;
  try {
    ({ server, port: httpPort } = await listenHttp(app.fetch, config.http.host, config.http.port));
  } catch (err) {
    await grpc.close();
    await store.close();
    throw err;
  }
  const host = config.grpc.host === '0.0.0.0' ? '127.0.0.1' : config.grpc.host;
  const httpHost = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  let stopping: Promise<void> | undefined;
  return {
    grpcPort,
    httpPort,
    grpcAddress: `${host}:${grpcPort}`,
    workspaceUrl: `http://${httpHost}:${httpPort}`,
    dataDir,
    tokens,
    faults,
    drop,
    stop() {
      stopping ??= (async () => {
        await grpc.close();
        await new Promise<void>((done) => server.close(() => done()));
        await store.close();
      })();
      return stopping;
    },
  };
}

function listenHttp(fetch: (request: Request) => Response | Promise<Response>, hostname: string, port: number): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}
