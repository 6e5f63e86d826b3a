import type { SourceSpec } from '../types.ts';
import { modbusConfigSchema, type ModbusConfig } from './config.ts';
import { ModbusSource } from './driver.ts';

export type { ModbusConfig } from './config.ts';

/** The Modbus source plugin: polls devices over Modbus TCP, RTU over TCP or a serial line. */
export const modbus: SourceSpec<ModbusConfig> = {
  protocol: 'modbus',
  configSchema: modbusConfigSchema,
  create: (name, config) => new ModbusSource(name, config),
};
