import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { freePort } from './ports.ts';

export interface TcpProxy {
  /** The 127.0.0.1 port clients connect to; it stays the same across down() and up(). */
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Cuts every open connection and keeps listening, as a failing network would. */
  drop(): void;
  /** Cuts every connection and stops listening: the target is "away". */
  down(): Promise<void>;
  /** Listens again on the same port: the target is "back". */
  up(): Promise<void>;
  /** The same as down(). */
  close(): Promise<void>;
}

/** A TCP forwarder to 127.0.0.1:targetPort on a free port of its own, for tests that cut the network. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let connections = 0;
  const drop = () => {
    for (const s of sockets) s.destroy();
  };
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        connections += 1;
        const upstream = connectTcp(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = async () => {
    drop();
    const closing = server;
    server = undefined;
    await new Promise<void>((resolve) => (closing ? closing.close(() => resolve()) : resolve()));
  };
  await up();
  return { port, connections: () => connections, drop, down, up, close: down };
}
