import { z } from 'zod';
import { secretString } from '../../../common/config/shared.ts';
import { highestLevel, parseTagTemplate, DEFAULT_TAG_TEMPLATE } from './tag.ts';
import { topicFilterProblem } from './topic.ts';

export const DEFAULT_MQTT_QOS = 1;
export const DEFAULT_VALUE_PATH = 'value';
export const DEFAULT_KEEPALIVE_S = 30;
export const MAX_KEEPALIVE_S = 65_535;
export const DEFAULT_RECONNECT_PERIOD_MS = 1_000;
export const MIN_RECONNECT_PERIOD_MS = 100;
export const MAX_RECONNECT_PERIOD_MS = 600_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
export const MIN_CONNECT_TIMEOUT_MS = 100;
export const MAX_CONNECT_TIMEOUT_MS = 600_000;
/** MQTT 5 allows client ids up to 65,535 bytes; brokers commonly cap them far lower. */
export const MAX_CLIENT_ID_LENGTH = 256;

const MQTT_URL = /^(mqtt|mqtts|ws|wss):\/\/[^\s/]+/;

export const subscriptionSchema = z
  .object({
    topic: z
      .string()
      .superRefine((topic, ctx) => {
        const problem = topicFilterProblem(topic);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe("Topic filter; '+' matches one level, '#' (last) matches the rest, e.g. plant/+/temperature or plant/#."),
    qos: z
      .literal([0, 1, 2])
      .default(DEFAULT_MQTT_QOS)
      .describe('Subscription QoS: 0 at most once, 1 at least once (default), 2 exactly once.'),
    value_path: z
      .string()
      .default(DEFAULT_VALUE_PATH)
      .describe('Dot path to the value in the JSON payload, e.g. data.temp or values.0; "" takes the whole payload as the value.'),
    timestamp_path: z
      .string()
      .min(1)
      .optional()
      .describe('Dot path to the source timestamp: an ISO 8601 string with a time zone, or epoch milliseconds. Unset: the time of receipt.'),
    tag: z
      .string()
      .superRefine((tag, ctx) => {
        const parts = parseTagTemplate(tag);
        if (typeof parts === 'string') ctx.addIssue({ code: 'custom', message: parts });
      })
      .default(DEFAULT_TAG_TEMPLATE)
      .describe('Tag template over the topic: {topic} is the whole topic, {0}, {1}, ... are its levels from 0. Example: "{1}/{2}".'),
  })
  .strict()
  // Runs once topic and tag are each valid: does the template name a level the topic has?
  .superRefine((sub, ctx) => {
    const parts = parseTagTemplate(sub.tag);
    if (typeof parts === 'string') return;
    const levels = sub.topic.split('/');
    const top = highestLevel(parts);
    if (!sub.topic.endsWith('#') && top >= levels.length) {
      ctx.addIssue({ code: 'custom', path: ['tag'], message: `{${top}} is past the last level of topic ${sub.topic} (levels 0-${levels.length - 1})` });
    }
  })
  .describe('One topic filter and how its payloads become readings.');

export const mqttConfigSchema = z
  .object({
    url: z
      .string()
      .regex(MQTT_URL, { message: 'expected an mqtt://, mqtts://, ws:// or wss:// URL' })
      .describe('Broker URL, e.g. mqtt://broker:1883; mqtts:// for TLS, ws:// or wss:// for WebSocket.'),
    client_id: z
      .string()
      .min(1)
      .max(MAX_CLIENT_ID_LENGTH)
      .optional()
      .describe('MQTT client id. Unset: the source name with a random suffix, new at every start. Set it when clean is false.'),
    username: z.string().min(1).optional().describe('User name for the broker.'),
    password: secretString().optional().describe('Password for the broker; use ${ENV_VAR} rather than writing it in the file.'),
    keepalive_s: z.number().int().min(0).max(MAX_KEEPALIVE_S).default(DEFAULT_KEEPALIVE_S).describe('Keep-alive interval in seconds; 0 turns it off.'),
    clean: z
      .boolean()
      .default(true)
      .describe('Start a clean session. false keeps the session (and QoS 1/2 messages) at the broker while the gateway is away.'),
    reconnect_period_ms: z
      .number()
      .int()
      .min(MIN_RECONNECT_PERIOD_MS)
      .max(MAX_RECONNECT_PERIOD_MS)
      .default(DEFAULT_RECONNECT_PERIOD_MS)
      .describe('Wait between reconnect attempts, in milliseconds.'),
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
    if (config.password !== undefined && config.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'a password needs a username' });
    }
    if (!config.clean && config.client_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['client_id'], message: 'a persistent session (clean: false) needs a fixed client_id' });
    }
  })
  .describe('MQTT source: subscribes to a broker and reads JSON payloads.');

export type MqttConfig = z.output<typeof mqttConfigSchema>;
export type MqttSubscription = z.output<typeof subscriptionSchema>;
