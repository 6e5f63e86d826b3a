/**
 * The one internal record. Every driver produces it, every sink consumes it.
 * Times are integer microseconds since the Unix epoch (UTC); they stay below 2^53.
 */
export type Protocol = 'opcua' | 'mqtt' | 'modbus';

export type ReadingValue = number | string | boolean | null;

export interface OpcuaDetails {
  protocol: 'opcua';
  nodeId: string;
  browsePath?: string;
  /** OPC UA builtin type name, e.g. Double, Int32, String. */
  valueType: string;
}

export interface MqttDetails {
  protocol: 'mqtt';
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export type ModbusRegisterType = 'coil' | 'discrete_input' | 'holding' | 'input';

export interface ModbusDetails {
  protocol: 'modbus';
  unitId: number;
  registerType: ModbusRegisterType;
  address: number;
  /** The raw 16-bit words (or bits) the value was decoded from. */
  raw: number[];
  unit?: string;
}

export type ReadingDetails = OpcuaDetails | MqttDetails | ModbusDetails;

/** What a driver emits: a reading before the pipeline stamps its identity. */
export interface SourceReading {
  source: string;
  tag: string;
  value: ReadingValue;
  /** OPC UA StatusCode semantics: 0 is Good, see quality.ts. */
  quality: number;
  sourceTimeUs: number;
  gatewayTimeUs: number;
  details: ReadingDetails;
}

/** A reading stamped by the pipeline, so gaps and repeats can be proven from the table alone. */
export interface Reading extends SourceReading {
  gatewayId: string;
  /** Changes at every gateway start. */
  runId: string;
  /** Per source and run; only increases. */
  seq: number;
}

export function nowUs(): number {
  return Date.now() * 1000;
}
