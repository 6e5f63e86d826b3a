import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { zerobusServiceDefinition, type StreamRequest, type StreamResponse } from '../../common/zerobus/wire.ts';

/** Zerobus takes at most 10 MiB per ingest call; the envelope of a request adds a little. */
export const MAX_RECEIVE_BYTES = 10 * 1024 * 1024 + 64 * 1024;
const SHUTDOWN_GRACE_MS = 2_000;

type Handler = (call: ServerDuplexStream<StreamRequest, StreamResponse>) => void;

/**
 * The emulator's gRPC listener. It can drop every connection for real (force shutdown) and
 * listen again on the same port, at once or after an outage.
 */
export class GrpcListener {
  #server: Server | undefined;
  #port = 0;
  #rebinding: Promise<void> | undefined;

  constructor(
    private readonly host: string,
    private readonly handler: Handler,
  ) {}

  get port(): number {
    return this.#port;
  }

  async listen(port: number): Promise<number> {
    const server = new Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES });
    server.addService(zerobusServiceDefinition as never, { EphemeralStream: this.handler });
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    this.#server = server;
    return this.#port;
  }

  /** Ends every connection and call now; listens again after outageMs. */
  drop(outageMs: number): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
    this.#rebinding = (async () => {
      if (outageMs > 0) await new Promise((r) => setTimeout(r, outageMs));
      await this.listen(this.#port);
    })();
    return outageMs > 0 ? Promise.resolve() : this.#rebinding;
  }

  async close(): Promise<void> {
    await this.#rebinding?.catch(() => undefined);
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        done();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        done();
      });
    });
  }
}
