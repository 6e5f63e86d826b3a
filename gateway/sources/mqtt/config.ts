import { z } from 'zod';
import { secretString } from '../../../common/config/shared.ts';
import { subscriptionSchema } from './subscription.ts';

export { DEFAULT_MQTT_QOS, DEFAULT_VALUE_PATH, subscriptionSchema, type MqttSubscription } from './subscription.ts';

export const DEFAULT_PROTOCOL_VERSION = 4;
export const DEFAULT_KEEPALIVE_S = 30;
export const MAX_KEEPALIVE_S = 65_535;
export const DEFAULT_RECONNECT_PERIOD_MS = 1_000;
export const MIN_RECONNECT_PERIOD_MS = 100;
export const MAX_RECONNECT_PERIOD_MS = 600_000;
export const DEFAULT_RECONNECT_MAX_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
export const MIN_CONNECT_TIMEOUT_MS = 100;
export const MAX_CONNECT_TIMEOUT_MS = 600_000;
/** MQTT 5: how long the broker keeps a persistent session (clean: false) while the gateway is away. */
export const DEFAULT_SESSION_EXPIRY_S = 86_400;
/** MQTT 5's "never expires" value. */
export const MAX_SESSION_EXPIRY_S = 0xffffffff;
/** MQTT 5 allows client ids up to 65,535 bytes; brokers commonly cap them far lower. */
export const MAX_CLIENT_ID_LENGTH = 256;

const MQTT_URL = /^(mqtt|mqtts|ws|wss):\/\/[^\s/]+/;
const TLS_URL = /^(mqtts|wss):/;

export const tlsSchema = z
  .object({
    ca_file: z.string().min(1).optional().describe('CA certificate(s) (PEM) that signed the broker\'s certificate. Unset: the system roots.'),
    cert_file: z.string().min(1).optional().describe('Client certificate (PEM), for brokers that require one; needs key_file.'),
    key_file: z.string().min(1).optional().describe('Private key (PEM) of the client certificate; needs cert_file.'),
    key_passphrase: secretString().optional().describe('Passphrase of an encrypted key_file; use ${ENV_VAR}.'),
    servername: z
      .string()
      .min(1)
      .optional()
      .describe('Name sent in SNI and checked against the broker certificate. Unset: the URL host (useful when connecting by IP address).'),
    verify_server: z
      .boolean()
      .default(true)
      .describe('Check the broker certificate against the CA and the host name. false accepts any certificate: for tests only.'),
  })
  .strict()
  .describe('TLS settings for mqtts:// and wss:// URLs. Files are read at start.');

export const mqttConfigSchema = z
  .object({
    url: z
      .string()
      .regex(MQTT_URL, { message: 'expected an mqtt://, mqtts://, ws:// or wss:// URL' })
      .describe('Broker URL, e.g. mqtt://broker:1883; mqtts:// for TLS, ws:// or wss:// for WebSocket (path included, e.g. ws://broker:8080/mqtt).'),
    protocol_version: z
      .literal([4, 5])
      .default(DEFAULT_PROTOCOL_VERSION)
      .describe('MQTT protocol level: 4 is MQTT 3.1.1 (default), 5 is MQTT 5.'),
    client_id: z
      .string()
      .min(1)
      .max(MAX_CLIENT_ID_LENGTH)
      .optional()
      .describe('MQTT client id. Unset: the source name with a random suffix, new at every start. Set it when clean is false.'),
    username: z.string().min(1).optional().describe('User name for the broker.'),
    password: secretString().optional().describe('Password for the broker; use ${ENV_VAR} rather than writing it in the file.'),
    tls: tlsSchema.optional(),
    keepalive_s: z.number().int().min(0).max(MAX_KEEPALIVE_S).default(DEFAULT_KEEPALIVE_S).describe('Keep-alive interval in seconds; 0 turns it off.'),
    clean: z
      .boolean()
      .default(true)
      .describe('Start a clean session. false keeps the session (and QoS 1/2 messages) at the broker while the gateway is away.'),
    session_expiry_s: z
      .number()
      .int()
      .min(1)
      .max(MAX_SESSION_EXPIRY_S)
      .optional()
      .describe(`MQTT 5 with clean: false: how long the broker keeps the session after the gateway disconnects, in seconds. Default ${DEFAULT_SESSION_EXPIRY_S}.`),
    reconnect_period_ms: z
      .number()
      .int()
      .min(MIN_RECONNECT_PERIOD_MS)
      .max(MAX_RECONNECT_PERIOD_MS)
      .default(DEFAULT_RECONNECT_PERIOD_MS)
      .describe('Wait before the first reconnect attempt, in milliseconds; each failed attempt doubles it up to reconnect_max_ms. Each wait is drawn between half and all of it (jitter).'),
    reconnect_max_ms: z
      .number()
      .int()
      .min(MIN_RECONNECT_PERIOD_MS)
      .max(MAX_RECONNECT_PERIOD_MS)
      .default(DEFAULT_RECONNECT_MAX_MS)
      .describe('Longest wait between reconnect attempts, in milliseconds.'),
    connect_timeout_ms: z
      .number()
      .int()
      .min(MIN_CONNECT_TIMEOUT_MS)
      .max(MAX_CONNECT_TIMEOUT_MS)
      .default(DEFAULT_CONNECT_TIMEOUT_MS)
      .describe('Longest wait for the broker to accept a connection, in milliseconds.'),
    subscriptions: z.array(subscriptionSchema).min(1).describe('Topic filters to subscribe to; a message takes the most specific one that matches.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (config.password !== undefined && config.username === undefined) issue(['username'], 'a password needs a username');
    if (!config.clean && config.client_id === undefined) issue(['client_id'], 'a persistent session (clean: false) needs a fixed client_id');
    if (config.session_expiry_s !== undefined) {
      if (config.protocol_version !== 5) issue(['session_expiry_s'], 'needs protocol_version 5 (MQTT 3.1.1 has no session expiry)');
      else if (config.clean) issue(['session_expiry_s'], 'applies to a persistent session (clean: false)');
    }
    if (config.reconnect_max_ms < config.reconnect_period_ms) {
      issue(['reconnect_max_ms'], `must be at least reconnect_period_ms (${config.reconnect_period_ms})`);
    }
    const tls = config.tls;
    if (tls) {
      if (!TLS_URL.test(config.url)) issue(['tls'], 'TLS settings need an mqtts:// or wss:// URL');
      if (tls.cert_file !== undefined && tls.key_file === undefined) issue(['tls', 'key_file'], 'a client certificate needs its key_file');
      if (tls.key_file !== undefined && tls.cert_file === undefined) issue(['tls', 'cert_file'], 'a client key needs its cert_file');
      if (tls.key_passphrase !== undefined && tls.key_file === undefined) issue(['tls', 'key_passphrase'], 'a key passphrase needs a key_file');
    }
  })
  .describe('MQTT source: subscribes to a broker and turns JSON, plain or Sparkplug B payloads into readings.');

export type MqttConfig = z.output<typeof mqttConfigSchema>;
export type MqttTlsConfig = z.output<typeof tlsSchema>;
