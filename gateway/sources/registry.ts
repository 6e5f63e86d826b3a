import type { SourceSpec } from './types.ts';
import { modbus } from './modbus/index.ts';
import { mqtt } from './mqtt/index.ts';
import { opcua } from './opcua/index.ts';

/** Every source plugin, one line each. Its protocol is its key in a source's config. */
export const SOURCE_SPECS: ReadonlyArray<SourceSpec<any>> = [mqtt, modbus, opcua];
