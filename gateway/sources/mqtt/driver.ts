import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from '../../../common/logger.ts';
import { nowUs } from '../../../common/reading.ts';
import { LogLimiter } from '../../pipeline/log-limiter.ts';
import type { ConnectionState, Pausable, Source, SourceContext, SourceStatus } from '../types.ts';
import type { MqttConfig } from './config.ts';
import { AckBatch } from './ack-batch.ts';
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
/** Topics listed one by one under details.rejectedByTopic in /status, busiest first; the rest are summed. */
export const STATUS_TOPICS_SHOWN = 20;

/**
 * Why pausing would lose data silently, or undefined when it would not: only a persistent
 * session whose subscriptions are all QoS 1 or 2 has the broker queue what is published
 * while the source is disconnected.
 */
export function pauseRefusal(config: Pick<MqttConfig, 'clean' | 'subscriptions'>): string | undefined {
  if (config.clean) return 'clean session (clean: true): the broker keeps nothing for a disconnected client, so every message published while paused would be lost';
  const qos0 = config.subscriptions.filter((s) => s.qos === 0).map((s) => s.topic);
  if (qos0.length > 0) return `QoS 0 subscriptions (${qos0.join(', ')}): the broker does not queue QoS 0 messages for a disconnected client`;
  return undefined;
}

/**
 * Subscribes to one broker and turns each message into readings. mqtt.js reconnects by
 * itself, with the wait between attempts grown by ReconnectPacer; the driver subscribes again
 * on every connect whose session the broker did not keep.
 */
export class MqttSource implements Source, Pausable {
  readonly #name: string;
  readonly #config: MqttConfig;
  readonly #handler: MessageHandler;
  readonly #clientId: string;
  readonly #pacer: ReconnectPacer;
  readonly #rejectedByTopic = new TopicCounts();
  readonly #gapLog = new LogLimiter(SEQ_GAP_LOG_INTERVAL_MS);
  readonly #sparkplug: boolean;
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
  #messages = 0;
  #sessionPresent: boolean | undefined;
  #paused = false;
  /** The disconnect of a pause, deferred so the message being handled is acknowledged first. */
  #pauseTimer: NodeJS.Immediate | undefined;
  /** Set by resume() until the next connect, which must find the session kept. */
  #resuming = false;
  /** The acknowledgements of a burst of messages, sent in one write (see ack-batch.ts). */
  readonly #acks = new AckBatch();

  constructor(name: string, config: MqttConfig, random: () => number = Math.random) {
    this.#name = name;
    this.#config = config;
    this.#handler = new MessageHandler(name, config.subscriptions);
    this.#clientId = config.client_id ?? `${name}-${randomBytes(CLIENT_ID_SUFFIX_BYTES).toString('hex')}`;
    this.#pacer = new ReconnectPacer({ initialMs: config.reconnect_period_ms, maxMs: config.reconnect_max_ms }, random);
    this.#sparkplug = config.subscriptions.some((s) => s.format === 'sparkplug_b');
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
      this.#sessionPresent = connack.sessionPresent;
      log.info({ url: this.#config.url, sessionPresent: connack.sessionPresent, protocolVersion: this.#config.protocol_version }, 'Connected to MQTT broker.');
      if (this.#resuming && !connack.sessionPresent) {
        log.error({ url: this.#config.url }, 'The broker did not keep the session while the source was paused; messages published meanwhile were lost. Data was lost.');
      }
      this.#resuming = false;
      if (connack.sessionPresent) this.#state = 'connected';
      else this.#subscribe(client, log);
    });
    client.on('reconnect', () => {
      this.#state = 'connecting';
    });
    client.on('close', () => {
      if (this.#stopping) return;
      if (this.#state === 'connected' && !this.#paused) log.warn({ url: this.#config.url }, 'Lost connection to MQTT broker; reconnecting.');
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
      // Before handling: mqtt.js writes the acknowledgement right after this listener returns.
      if (packet.qos > 0) this.#acks.hold(client.stream);
      this.#messages += 1;
      const outcome = this.#handler.handle(topic, payload, { qos: packet.qos, retain: packet.retain, receivedUs: nowUs() });
      this.#apply(topic, outcome, client, ctx, log);
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#end();
    return this.#stopping;
  }

  status(): SourceStatus {
    const rejected = this.#rejectedByTopic.top(STATUS_TOPICS_SHOWN);
    return {
      state: this.#state,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
      details: {
        clientId: this.#clientId,
        clean: this.#config.clean,
        ...(this.#sessionPresent !== undefined ? { sessionPresent: this.#sessionPresent } : {}),
        paused: this.#paused,
        messages: this.#messages,
        rejected: rejected.total,
        rejectedByTopic: rejected.top,
        ...(rejected.omittedTopics > 0 ? { rejectedOtherTopics: { topics: rejected.omittedTopics, rejected: rejected.omittedCount } } : {}),
        ...(this.#sparkplug ? { sparkplug: { ...this.sparkplugStats() } } : {}),
      },
    };
  }

  /**
   * With a persistent session and only QoS 1/2 subscriptions: disconnects, and the broker
   * queues the session's messages (up to its own limit, Mosquitto's max_queued_messages)
   * until resume() reconnects and receives them. Otherwise refuses (returns false, logs why)
   * and keeps reading: the broker would drop what it cannot deliver, and no one would count it.
   */
  pause(): boolean {
    if (this.#paused) return true;
    const refusal = pauseRefusal(this.#config);
    if (refusal) {
      this.#log?.warn({ reason: refusal }, 'Cannot pause this MQTT source without losing data; it keeps reading, and what the full queue cannot take is dropped (reason blocked).');
      return false;
    }
    this.#paused = true;
    const client = this.#client;
    if (!client || this.#stopping) return true;
    this.#log?.info({ url: this.#config.url }, 'Pausing: disconnecting from the MQTT broker, which queues the session’s messages until the source resumes.');
    this.#pauseTimer = setImmediate(() => {
      this.#pauseTimer = undefined;
      // The acknowledgements of what was handled go out before the DISCONNECT, or before a hard close.
      this.#acks.flush();
      // Not connected (the broker away): end at once. A graceful end would queue a DISCONNECT
      // that mqtt.js then sends first thing after resume's reconnect.
      if (this.#paused && !this.#stopping) client.end(!client.connected);
    });
    return true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#pauseTimer) {
      clearImmediate(this.#pauseTimer);
      this.#pauseTimer = undefined;
      return;
    }
    const client = this.#client;
    if (!client || this.#stopping) return;
    this.#log?.info({ url: this.#config.url }, 'Resuming: reconnecting to the MQTT broker for the messages it queued.');
    this.#resuming = true;
    this.#state = 'connecting';
    client.reconnect();
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
    this.#acks.flush();
    if (this.#pauseTimer) {
      clearImmediate(this.#pauseTimer);
      this.#pauseTimer = undefined;
    }
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
