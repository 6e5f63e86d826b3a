import type { SourceSpec } from '../types.ts';
import { mqttConfigSchema, type MqttConfig } from './config.ts';
import { MqttSource } from './driver.ts';

export type { MqttConfig } from './config.ts';

/** The MQTT source plugin: reads json, plain and Sparkplug B payloads from topic subscriptions. */
export const mqtt: SourceSpec<MqttConfig> = {
  protocol: 'mqtt',
  configSchema: mqttConfigSchema,
  create: (name, config) => new MqttSource(name, config),
};
