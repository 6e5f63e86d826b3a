import { QUALITY_GOOD } from '../../../common/quality.ts';
import type { SourceReading } from '../../../common/reading.ts';
import type { MqttSubscription } from './config.ts';
import { decodeJsonPayload, isDecodeFailure } from './decode.ts';
import { parseTagTemplate, renderTag, type TagPart } from './tag.ts';
import { TopicRouter } from './topic.ts';

/** A subscription with its tag template parsed once. */
export interface Route {
  topic: string;
  qos: 0 | 1 | 2;
  subscription: MqttSubscription;
  tagParts: TagPart[];
}

export interface MessageMeta {
  qos: 0 | 1 | 2;
  retain: boolean;
  receivedUs: number;
}

export interface MessageFailure {
  /** Fixed label for metrics: a decode failure kind, no_subscription or bad_tag. */
  kind: string;
  reason: string;
}

/** Compiles validated subscriptions into a router. Throws only on a template the schema let through. */
export function buildRouter(subscriptions: readonly MqttSubscription[]): TopicRouter<Route> {
  return new TopicRouter(
    subscriptions.map((subscription) => {
      const tagParts = parseTagTemplate(subscription.tag);
      if (typeof tagParts === 'string') throw new Error(`tag template ${subscription.tag}: ${tagParts}`);
      return { topic: subscription.topic, qos: subscription.qos, subscription, tagParts };
    }),
  );
}

/** Turns one MQTT message into a reading, or says why it cannot. Pure. */
export function messageToReading(
  source: string,
  router: TopicRouter<Route>,
  topic: string,
  payload: Buffer,
  meta: MessageMeta,
): { reading: SourceReading } | MessageFailure {
  const route = router.match(topic);
  if (!route) return { kind: 'no_subscription', reason: 'no subscription matches the topic' };
  const decoded = decodeJsonPayload(payload, route.subscription);
  if (isDecodeFailure(decoded)) return decoded;
  const tag = renderTag(route.tagParts, topic);
  if ('reason' in tag) return { kind: 'bad_tag', reason: tag.reason };
  return {
    reading: {
      source,
      tag: tag.tag,
      value: decoded.value,
      quality: QUALITY_GOOD,
      sourceTimeUs: decoded.sourceTimeUs ?? meta.receivedUs,
      gatewayTimeUs: meta.receivedUs,
      details: { protocol: 'mqtt', topic, qos: meta.qos, retain: meta.retain },
    },
  };
}

/** The payload as text when it is valid UTF-8, else base64, for a rejection record. */
export function payloadText(payload: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return payload.toString('base64');
  }
}
