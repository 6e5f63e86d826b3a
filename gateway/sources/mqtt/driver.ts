import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../../common/logger.ts';
import { nowUs } from '../../../common/reading.ts';
import type { ConnectionState, Source, SourceContext, SourceStatus } from '../types.ts';
import type { MqttConfig } from './config.ts';
import { buildRouter, messageToReading, payloadText, type Route } from './message.ts';
import type { TopicRouter } from './topic.ts';

/** Longest a graceful disconnect may take before the socket is closed hard. */
export const MQTT_STOP_TIMEOUT_MS = 5_000;
const CLIENT_ID_SUFFIX_BYTES = 4;
/** SUBACK return code for a refused subscription. */
const SUBACK_FAILURE = 128;

/**
 * Subscribes to one broker and turns each message into a reading. mqtt.js reconnects by
 * itself every reconnect_period_ms; the driver subscribes again on every connect whose
 * session the broker did not keep.
 */
export class MqttSource implements Source {
  readonly #name: string;
  readonly #config: MqttConfig;
  readonly #router: TopicRouter<Route>;
  readonly #clientId: string;
  #client: MqttClient | undefined;
  #log: Logger | undefined;
  #state: ConnectionState = 'stopped';
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  /** The connection error last logged; cleared on connect so the next outage logs again. */
  #loggedError: string | undefined;
  #stopping: Promise<void> | undefined;

  constructor(name: string, config: MqttConfig) {
    this.#name = name;
    this.#config = config;
    this.#router = buildRouter(config.subscriptions);
    this.#clientId = config.client_id ?? `${name}-${randomBytes(CLIENT_ID_SUFFIX_BYTES).toString('hex')}`;
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this.#client || this.#stopping) return;
    const log = ctx.log.child({ clientId: this.#clientId });
    this.#log = log;
    this.#state = 'connecting';
    const client = connect(this.#config.url, this.#clientOptions());
    this.#client = client;

    // 'connected' means ready to receive: the broker kept the session, or acknowledged the
    // subscriptions made for this connection.
    client.on('connect', (connack) => {
      this.#loggedError = undefined;
      log.info({ url: this.#config.url, sessionPresent: connack.sessionPresent }, 'Connected to MQTT broker.');
      if (connack.sessionPresent) this.#state = 'connected';
      else this.#subscribe(client, log);
    });
    client.on('reconnect', () => {
      this.#state = 'connecting';
    });
    client.on('close', () => {
      if (this.#stopping) return;
      if (this.#state === 'connected') log.warn({ url: this.#config.url }, 'Lost connection to MQTT broker; reconnecting.');
      this.#state = 'disconnected';
    });
    client.on('error', (err) => {
      this.#recordError(err.message, log);
    });
    client.on('message', (topic, payload, packet) => {
      const result = messageToReading(this.#name, this.#router, topic, payload, {
        qos: packet.qos,
        retain: packet.retain,
        receivedUs: nowUs(),
      });
      if ('reading' in result) ctx.emit(result.reading);
      else ctx.reject({ origin: topic, reason: result.reason, kind: result.kind, payload: payloadText(payload) });
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#end();
    return this.#stopping;
  }

  status(): SourceStatus {
    return {
      state: this.#state,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
    };
  }

  async #end(): Promise<void> {
    const client = this.#client;
    this.#state = 'stopped';
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const graceful = client.endAsync(!client.connected);
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), MQTT_STOP_TIMEOUT_MS);
    });
    try {
      if (await Promise.race([graceful.then(() => false), timedOut])) await client.endAsync(true);
    } finally {
      clearTimeout(timer);
    }
    this.#log?.info('Disconnected from MQTT broker.');
  }

  #clientOptions(): IClientOptions {
    const c = this.#config;
    return {
      clientId: this.#clientId,
      keepalive: c.keepalive_s,
      clean: c.clean,
      reconnectPeriod: c.reconnect_period_ms,
      connectTimeout: c.connect_timeout_ms,
      // The driver subscribes on connect itself, so it can see and report refusals.
      resubscribe: false,
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password.reveal() } : {}),
    };
  }

  #subscribe(client: MqttClient, log: Logger): void {
    const map = Object.fromEntries(this.#config.subscriptions.map((s) => [s.topic, { qos: s.qos }]));
    client.subscribe(map, (err, granted) => {
      if (err) {
        if (!this.#stopping) this.#recordError(`subscribe failed: ${err.message}`, log);
        return;
      }
      for (const grant of granted ?? []) {
        if (grant.qos === SUBACK_FAILURE) {
          this.#setError(`broker refused subscription to ${grant.topic}`);
          log.error({ topic: grant.topic }, 'MQTT broker refused a subscription; its messages will not be read.');
        }
      }
      if (client.connected && !this.#stopping) this.#state = 'connected';
      log.info({ topics: Object.keys(map) }, 'Subscribed to MQTT topics.');
    });
  }

  /** Logs a connection error unless it repeats the one last logged, so a long outage logs once. */
  #recordError(message: string, log: Logger): void {
    this.#setError(message);
    if (message === this.#loggedError) return;
    this.#loggedError = message;
    log.warn({ url: this.#config.url, error: message }, 'MQTT connection error; retrying.');
  }

  #setError(message: string): void {
    this.#lastError = message;
    this.#lastErrorAt = new Date().toISOString();
  }
}
