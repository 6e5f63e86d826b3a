import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ConnectProxy {
  /** http://127.0.0.1:port, for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  port: number;
  /** host:port of every CONNECT tunnel opened, in order. */
  readonly connects: string[];
  /** host:port of every plain request forwarded by absolute URI, in order. */
  readonly forwards: string[];
  close(): Promise<void>;
}

function splitHostPort(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':');
  return { host: target.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(target.slice(colon + 1)) };
}

/**
 * A real forward proxy on 127.0.0.1, like the one a DMZ puts in front of the internet: HTTP
 * CONNECT tunnels (what gRPC and https:// use) and absolute-URI forwarding for plain
 * http:// requests. It records what it carried.
 */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const connects: string[] = [];
  const forwards: string[] = [];
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/');
    forwards.push(url.host);
    const upstream = httpRequest({ host: url.hostname, port: url.port || 80, method: req.method, path: `${url.pathname}${url.search}`, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    track(client);
    const { host, port } = splitHostPort(target);
    const upstream: Socket = netConnect({ host, port }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connects,
    forwards,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The proxy variables any library might read, upper and lower case. */
export const PROXY_ENV_NAMES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'grpc_proxy', 'no_grpc_proxy'] as const;

/**
 * Clears every proxy variable and returns a function that puts them all back as they were.
 * Environment variables are process-wide: a test that sets them restores them after itself.
 */
export function isolateProxyEnv(): () => void {
  const saved = new Map(PROXY_ENV_NAMES.map((name) => [name, process.env[name]]));
  for (const name of PROXY_ENV_NAMES) delete process.env[name];
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
