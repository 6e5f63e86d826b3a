import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from '../../../common/logger.ts';
import { nowUs } from '../../../common/reading.ts';
import { LogLimiter } from '../../pipeline/log-limiter.ts';
import type { ConnectionState, Source, SourceContext, SourceStatus } from '../types.ts';
import type { MqttConfig } from './config.ts';
import { clientOptions } from './connection.ts';
import { MessageHandler, type MessageOutcome } from './message.ts';
import { ReconnectPacer } from './reconnect.ts';
import type { SparkplugStats } from './sparkplug/host.ts';
import { TopicCounts } from './topic-counts.ts';

/** Longest a graceful disconnect may take before the socket is closed hard. */
export const MQTT_STOP_TIMEOUT_MS = 5_000;
/** BIRTHs come in bursts; the tag set is declared again once a burst has passed. */
export const DESCRIBE_DEBOUNCE_MS = 100;
/** At most one sequence-gap warning per edge node per interval, with the count since the last. */
export const SEQ_GAP_LOG_INTERVAL_MS = 60_000;
const CLIENT_ID_SUFFIX_BYTES = 4;
/** SUBACK return code for a refused subscription. */
const SUBACK_FAILURE = 128;

/**
 * Subscribes to one broker and turns each message into readings. mqtt.js reconnects by
 * itself, with the wait between attempts grown by ReconnectPacer; the driver subscribes again
 * on every connect whose session the broker did not keep.
 */
export class MqttSource implements Source {
  readonly #name: string;
  readonly #config: MqttConfig;
  readonly #handler: MessageHandler;
  readonly #clientId: string;
  readonly #pacer: ReconnectPacer;
  readonly #rejectedByTopic = new TopicCounts();
  readonly #gapLog = new LogLimiter(SEQ_GAP_LOG_INTERVAL_MS);
  #client: MqttClient | undefined;
  #ctx: SourceContext | undefined;
  #log: Logger | undefined;
  #state: ConnectionState = 'stopped';
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  /** The connection error last logged; cleared on connect so the next outage logs again. */
  #loggedError: string | undefined;
  #describeTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(name: string, config: MqttConfig, random: () => number = Math.random) {
    this.#name = name;
    this.#config = config;
    this.#handler = new MessageHandler(name, config.subscriptions);
    this.#clientId = config.client_id ?? `${name}-${randomBytes(CLIENT_ID_SUFFIX_BYTES).toString('hex')}`;
    this.#pacer = new ReconnectPacer({ initialMs: config.reconnect_period_ms, maxMs: config.reconnect_max_ms }, random);
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this.#client || this.#stopping) return;
    const log = ctx.log.child({ clientId: this.#clientId });
    this.#log = log;
    this.#ctx = ctx;
    const options = await clientOptions(this.#config, this.#clientId, this.#pacer.first());
    if (this.#stopping) return;
    const declared = this.#handler.declaredTags();
    if (declared.length > 0) ctx.describe(declared);
    this.#state = 'connecting';
    const client = connect(this.#config.url, options);
    this.#client = client;
    this.#pacer.attach(client);

    // 'connected' means ready to receive: the broker kept the session, or acknowledged the
    // subscriptions made for this connection.
    client.on('connect', (connack) => {
      this.#loggedError = undefined;
      log.info({ url: this.#config.url, sessionPresent: connack.sessionPresent, protocolVersion: this.#config.protocol_version }, 'Connected to MQTT broker.');
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
    // MQTT 5: the broker says why it closes the connection (another client took the id, ...).
    client.on('disconnect', (packet) => {
      const why = packet.properties?.reasonString;
      this.#recordError(`broker disconnected the client: reason code ${packet.reasonCode ?? 0}${why ? ` (${why})` : ''}`, log);
    });
    client.on('message', (topic, payload, packet) => {
      const outcome = this.#handler.handle(topic, payload, { qos: packet.qos, retain: packet.retain, receivedUs: nowUs() });
      this.#apply(topic, outcome, client, ctx, log);
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

  /** Rejected payloads per topic since start (topics past a cap are counted together; see TopicCounts). */
  rejectedByTopic(): Record<string, number> {
    return this.#rejectedByTopic.snapshot();
  }

  /** Sparkplug B edge nodes seen, sequence gaps and Rebirth requests. */
  sparkplugStats(): SparkplugStats {
    return this.#handler.sparkplugStats();
  }

  #apply(topic: string, outcome: MessageOutcome, client: MqttClient, ctx: SourceContext, log: Logger): void {
    for (const reading of outcome.readings) ctx.emit(reading);
    for (const rejection of outcome.rejections) {
      this.#rejectedByTopic.add(topic);
      ctx.reject(rejection);
    }
    if (outcome.tagsChanged) this.#scheduleDescribe();
    const gap = outcome.seqGap;
    if (gap) {
      this.#gapLog.hit(gap.edgeNode, (count) =>
        log.warn({ edgeNode: gap.edgeNode, expected: gap.expected, got: gap.got, count }, 'Sparkplug sequence gap: messages from the edge node were lost.'),
      );
    }
    const rebirth = outcome.publish;
    if (rebirth) {
      log.info({ topic: rebirth.topic }, 'Requesting a Sparkplug rebirth.');
      client.publish(rebirth.topic, Buffer.from(rebirth.payload), { qos: 0 }, (err) => {
        if (err && !this.#stopping) log.warn({ topic: rebirth.topic, error: err.message }, 'Could not publish a Sparkplug rebirth request.');
      });
    }
  }

  #scheduleDescribe(): void {
    if (this.#describeTimer || this.#stopping) return;
    this.#describeTimer = setTimeout(() => {
      this.#describeTimer = undefined;
      this.#ctx?.describe(this.#handler.declaredTags());
    }, DESCRIBE_DEBOUNCE_MS);
  }

  async #end(): Promise<void> {
    const client = this.#client;
    this.#state = 'stopped';
    if (this.#describeTimer) {
      clearTimeout(this.#describeTimer);
      this.#describeTimer = undefined;
      this.#ctx?.describe(this.#handler.declaredTags());
    }
    this.#gapLog.flush();
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

  #subscribe(client: MqttClient, log: Logger): void {
    const map = Object.fromEntries(this.#config.subscriptions.map((s) => [s.topic, { qos: s.qos }]));
    client.subscribe(map, (err, granted, packet) => {
      // A SUBACK that refuses some filters still grants the others: mqtt.js reports an error
      // together with the SUBACK, whose reason codes line up with the filters sent.
      const codes = (packet as { granted?: number[] } | undefined)?.granted;
      if (err && !codes) {
        // A subscription lost with its connection is retried on the next connect; the
        // connection's own error says what happened.
        if (!this.#stopping && client.connected) this.#recordError(`subscribe failed: ${err.message}`, log);
        return;
      }
      (granted ?? []).forEach((grant, i) => {
        const code = codes?.[i] ?? grant.qos;
        if (code >= SUBACK_FAILURE) {
          this.#setError(`broker refused subscription to ${grant.topic} (reason code ${code})`);
          log.error({ topic: grant.topic, reasonCode: code }, 'MQTT broker refused a subscription; its messages will not be read.');
        }
      });
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
