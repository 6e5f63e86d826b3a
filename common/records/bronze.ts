import type { Reading, ReadingValue } from '../reading.ts';
import { BRONZE_MESSAGE } from './schemas.ts';

/** A bronze row: column name to value, as the Delta table stores it. */
export type BronzeRow = Record<string, string | number | boolean>;

/** Maps a reading to the row of its protocol's bronze table. Pure. */
export function bronzeRow(r: Reading): { messageType: string; row: BronzeRow } {
  const common: BronzeRow = {
    event_time: r.sourceTimeUs,
    ingest_time: r.gatewayTimeUs,
    source_name: r.source,
    gateway_id: r.gatewayId,
    run_id: r.runId,
    seq: r.seq,
    tag: r.tag,
  };
  const d = r.details;
  switch (d.protocol) {
    case 'mqtt':
      return {
        messageType: BRONZE_MESSAGE.mqtt,
        row: withValue({ ...common, quality: r.quality, topic: d.topic, qos: d.qos, retain: d.retain, value_type: valueType(r.value) }, r.value),
      };
    case 'opcua':
      return {
        messageType: BRONZE_MESSAGE.opcua,
        row: withValue(
          { ...common, node_id: d.nodeId, ...(d.browsePath ? { browse_path: d.browsePath } : {}), status_code: r.quality, value_type: d.valueType },
          r.value,
        ),
      };
    case 'modbus': {
      const row: BronzeRow = {
        ...common,
        quality: r.quality,
        unit_id: d.unitId,
        register_type: d.registerType,
        address: d.address,
        raw_value: JSON.stringify(d.raw),
        ...(d.unit ? { unit: d.unit } : {}),
      };
      if (typeof r.value === 'number') row.scaled_value = r.value;
      else if (typeof r.value === 'boolean') row.scaled_value = r.value ? 1 : 0;
      if (r.value !== null) row.value_string = String(r.value);
      return { messageType: BRONZE_MESSAGE.modbus, row };
    }
  }
}

function withValue(row: BronzeRow, value: ReadingValue): BronzeRow {
  if (typeof value === 'number') row.value_number = value;
  else if (typeof value === 'boolean') row.value_number = value ? 1 : 0;
  if (value !== null) row.value_string = String(value);
  return row;
}

function valueType(value: ReadingValue): string {
  return value === null ? 'null' : typeof value;
}
