import { Client, Metadata, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { tokenRequestBody, TOKEN_PATH } from '../../relay/zerobus/token.ts';
import { EPHEMERAL_STREAM_PATH, HEADER_SDK, HEADER_TABLE, RECORD_TYPE, decodeResponse, encodeRequest, type StreamResponse } from '../../common/zerobus/wire.ts';

/**
 * The ceiling a Zerobus client can reach with grpc-js: one raw EphemeralStream call sending
 * pre-serialized requests (identity serializer, so no protobuf work while timed), a bounded
 * window of unacked requests, nothing else: no retries, no bookkeeping, no per-batch promises.
 */
export interface BareStreamOptions {
  grpcAddress: string;
  workspaceUrl: string;
  workspaceId: string;
  clientId: string;
  clientSecret: string;
  table: string;
  descriptorProto: Uint8Array;
  /** Serialized ingest_record_batch requests with offsets 0, 1, ... */
  requests: Buffer[];
  /** Requests sent but not acked at most. */
  window: number;
  maxSendBytes: number;
  /** Fails the run when nothing moves (token, headers, create_stream_response, an ack) for this long. */
  stallMs: number;
}

const BARE_USER_AGENT = 'iot-connector-bench-bare/0.1.0';

export async function runBareStream(o: BareStreamOptions): Promise<void> {
  const token = await fetchToken(o, o.stallMs);
  const client = new Client(o.grpcAddress, credentials.createInsecure(), {
    'grpc.primary_user_agent': BARE_USER_AGENT,
    'grpc.max_send_message_length': o.maxSendBytes,
  });
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  metadata.set(HEADER_TABLE, o.table);
  metadata.set(HEADER_SDK, BARE_USER_AGENT);
  const identity = (b: Buffer) => b;
  const call: ClientDuplexStream<Buffer, StreamResponse> = client.makeBidiStreamRequest(EPHEMERAL_STREAM_PATH, identity, decodeResponse, metadata, {});
  const last = o.requests.length - 1;
  let stall: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let acked = -1;
      let phase = 'waiting for response headers';
      const progress = (now: string) => {
        phase = now;
        clearTimeout(stall);
        stall = setTimeout(() => reject(new Error(`bare stream stalled for ${o.stallMs} ms ${phase} (sent ${next}, acked up to ${acked} of ${last})`)), o.stallMs);
      };
      progress(phase);
      // Sent but unacked: offsets acked+1 .. next-1, at most window of them.
      const fill = () => {
        while (next - acked <= o.window) {
          const request = o.requests[next];
          if (!request) return;
          call.write(request);
          next++;
        }
      };
      call.once('metadata', () => {
        progress('waiting for create_stream_response');
        call.write(encodeRequest({ create_stream: { table_name: o.table, record_type: RECORD_TYPE.PROTO, descriptor_proto: o.descriptorProto } }));
      });
      call.on('data', (response: StreamResponse) => {
        if (response.create_stream_response) {
          progress('waiting for acks');
          fill();
        } else if (response.ingest_record_response) {
          acked = response.ingest_record_response.durability_ack_up_to_offset;
          progress('waiting for acks');
          if (acked >= last) resolve();
          else fill();
        } else if (response.close_stream_signal) reject(new Error('bare stream: the server sent close_stream_signal'));
      });
      call.on('error', reject);
      call.on('end', () => reject(new Error(`bare stream: the server ended the call at ack ${acked} of ${last}`)));
    });
  } finally {
    clearTimeout(stall);
    call.removeAllListeners('end');
    call.on('error', () => {});
    call.end();
    client.close();
  }
}

async function fetchToken(o: BareStreamOptions, timeoutMs: number): Promise<string> {
  const res = await fetch(new URL(TOKEN_PATH, o.workspaceUrl), {
    method: 'POST',
    signal: AbortSignal.timeout(timeoutMs),
    headers: { authorization: `Basic ${Buffer.from(`${o.clientId}:${o.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenRequestBody(o.workspaceId, o.table),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`bare stream: token endpoint answered HTTP ${res.status}`);
  return body.access_token;
}
