import { z } from 'zod';
import { highestLevel, parseTagTemplate, type TemplateKind } from './tag.ts';
import { topicFilterProblem } from './topic.ts';

export const DEFAULT_MQTT_QOS = 1;
export const DEFAULT_VALUE_PATH = 'value';
export const DEFAULT_REBIRTH_MIN_INTERVAL_MS = 5_000;
export const MIN_REBIRTH_INTERVAL_MS = 100;
export const MAX_REBIRTH_INTERVAL_MS = 3_600_000;
export const PAYLOAD_FORMATS = ['json', 'plain', 'sparkplug_b'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];
export const SPARKPLUG_NAMESPACE = 'spBv1.0';

/** The keys that only make sense for one format; any other format refuses them. */
const FORMAT_KEYS: Record<PayloadFormat, readonly string[]> = {
  json: ['value_path', 'timestamp_path', 'quality_path', 'quality_numbers', 'fields'],
  plain: ['plain_type'],
  sparkplug_b: ['rebirth', 'rebirth_min_interval_ms'],
};

const jsonPath = (what: string) => z.string().min(1).describe(what);

export const jsonFieldSchema = z
  .object({
    value_path: jsonPath('Dot path to this reading\'s value, e.g. temp, data.speed or values.0.'),
    tag: z
      .string()
      .min(1)
      .optional()
      .describe('Tag template for this reading ({topic}, {0}, {1}, ...). Default: "{topic}/" followed by the value_path.'),
    timestamp_path: jsonPath('Dot path to this reading\'s timestamp. Default: the subscription\'s timestamp_path.').optional(),
    quality_path: jsonPath('Dot path to this reading\'s quality. Default: the subscription\'s quality_path.').optional(),
  })
  .strict()
  .describe('One reading taken from each JSON payload.');

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
    format: z
      .enum(PAYLOAD_FORMATS)
      .default('json')
      .describe('Payload format: json (default), plain (the payload is one number, string or boolean) or sparkplug_b.'),
    tag: z
      .string()
      .optional()
      .describe(
        'Tag template. json and plain: {topic} is the whole topic, {0}, {1}, ... its levels from 0 (default "{topic}"). sparkplug_b: {group_id}, {edge_node_id}, {device_id} and {metric} (default "{group_id}/{edge_node_id}/{device_id}/{metric}").',
      ),
    value_path: z
      .string()
      .optional()
      .describe('json: dot path to the value, e.g. data.temp or values.0; "" takes the whole payload. Default: value.'),
    timestamp_path: jsonPath('json: dot path to the source timestamp, an ISO 8601 string with a time zone or epoch milliseconds. Unset: the time of receipt.').optional(),
    quality_path: jsonPath('json: dot path to a quality (boolean, word, OPC UA status code name or number; see the MQTT README). Unset: Good.').optional(),
    quality_numbers: z
      .enum(['opcua', 'opcda'])
      .optional()
      .describe('json: how a numeric quality reads: opcua (default) as an OPC UA StatusCode, opcda as an OPC DA quality (192 Good, 0 Bad).'),
    fields: z
      .array(jsonFieldSchema)
      .min(1)
      .optional()
      .describe('json: several readings from each payload, one per field, each with its own tag. Replaces value_path and tag.'),
    plain_type: z.enum(['number', 'string', 'boolean']).optional().describe('plain: the type of the value: number (default), string or boolean.'),
    rebirth: z
      .boolean()
      .optional()
      .describe('sparkplug_b: publish a Rebirth request (NCMD) when data arrives that no BIRTH explains, or after a sequence gap. Default false; needs publish rights on spBv1.0/<group>/NCMD/<node>.'),
    rebirth_min_interval_ms: z
      .number()
      .int()
      .min(MIN_REBIRTH_INTERVAL_MS)
      .max(MAX_REBIRTH_INTERVAL_MS)
      .optional()
      .describe(`sparkplug_b: least time between two Rebirth requests to one edge node, in milliseconds. Default ${DEFAULT_REBIRTH_MIN_INTERVAL_MS}.`),
  })
  .strict()
  // Runs once each key is valid on its own: do the keys fit together and with the format?
  .superRefine((sub, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    for (const [format, keys] of Object.entries(FORMAT_KEYS)) {
      if (format === sub.format) continue;
      for (const key of keys) {
        if (sub[key as keyof typeof sub] !== undefined) issue([key], `applies only to format ${format}; this subscription's format is ${sub.format}`);
      }
    }
    const kind: TemplateKind = sub.format === 'sparkplug_b' ? 'sparkplug' : 'topic';
    if (sub.tag !== undefined) checkTemplate(sub.tag, kind, sub.topic, ['tag'], issue);
    if (sub.format === 'sparkplug_b' && sub.topic.split('/')[0] !== SPARKPLUG_NAMESPACE) {
      issue(['topic'], `a sparkplug_b topic starts with ${SPARKPLUG_NAMESPACE}/, e.g. ${SPARKPLUG_NAMESPACE}/plant1/#`);
    }
    if (sub.fields) {
      if (sub.value_path !== undefined) issue(['value_path'], 'with fields, each field has its own value_path');
      if (sub.tag !== undefined) issue(['tag'], 'with fields, each field has its own tag');
      const seen = new Map<string, number>();
      sub.fields.forEach((field, i) => {
        const tag = field.tag ?? fieldTagDefault(field.value_path);
        if (field.tag !== undefined) checkTemplate(field.tag, 'topic', sub.topic, ['fields', i, 'tag'], issue);
        const first = seen.get(tag);
        if (first !== undefined) issue(['fields', i, 'tag'], `same tag as fields[${first}]; give each field its own tag`);
        else seen.set(tag, i);
      });
    }
    const anyQuality = sub.quality_path !== undefined || (sub.fields ?? []).some((f) => f.quality_path !== undefined);
    if (sub.quality_numbers !== undefined && !anyQuality) issue(['quality_numbers'], 'needs a quality_path');
  })
  .describe('One topic filter and how its payloads become readings.');

export type MqttSubscription = z.output<typeof subscriptionSchema>;
export type JsonField = z.output<typeof jsonFieldSchema>;

/** A field's tag when it names none: the topic, then its value path. */
export function fieldTagDefault(valuePath: string): string {
  return `{topic}/${valuePath}`;
}

function checkTemplate(
  template: string,
  kind: TemplateKind,
  topic: string,
  path: (string | number)[],
  issue: (path: (string | number)[], message: string) => void,
): void {
  const parts = parseTagTemplate(template, kind);
  if (typeof parts === 'string') {
    issue(path, parts);
    return;
  }
  const levels = topic.split('/');
  const top = highestLevel(parts);
  if (!topic.endsWith('#') && top >= levels.length) {
    issue(path, `{${top}} is past the last level of topic ${topic} (levels 0-${levels.length - 1})`);
  }
}
