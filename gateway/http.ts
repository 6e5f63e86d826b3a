import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { GatewayStatus } from './status.ts';

export interface HttpDeps {
  status: () => GatewayStatus;
  registry: Registry;
}

/** The gateway's HTTP API: /health, /status and /metrics. No socket; see listen(). */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/status', (c) => c.json(deps.status()));
  app.get('/metrics', async (c) => c.text(await deps.registry.metrics(), 200, { 'content-type': deps.registry.contentType }));
  return app;
}

export interface HttpServer {
  port: number;
  /** Stops listening and drops open connections. Safe twice. */
  close(): Promise<void>;
}

/** Listens on host:port (0 picks a free port); rejects when the port cannot be bound. */
export async function listen(app: Hono, host: string, port: number): Promise<HttpServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
