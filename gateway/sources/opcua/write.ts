import { AttributeIds, StatusCodes, resolveNodeId, type ClientSession } from 'node-opcua-client';
import type { ReadingValue } from '../../../common/reading.ts';
import { SourceWriteError } from '../types.ts';
import type { DataTypeResolver } from './datatypes.ts';
import { encodeWrite } from './encode.ts';
import { UNKNOWN_DATA_TYPE, type NodeTable } from './nodes.ts';
import { serviceResultOf } from './publish.ts';

/** The node refused: the value is fine, the node is not writable (for this user). */
const NOT_WRITABLE = new Set<number>([StatusCodes.BadNotWritable, StatusCodes.BadUserAccessDenied, StatusCodes.BadWriteNotSupported].map((c) => c.value));
/** The node refused the value itself. */
const BAD_VALUE = new Set<number>([StatusCodes.BadTypeMismatch, StatusCodes.BadOutOfRange, StatusCodes.BadIndexRangeInvalid, StatusCodes.BadDataEncodingInvalid].map((c) => c.value));
/** ValueRank 0 and above: an array. */
const FIRST_ARRAY_RANK = 0;

/**
 * Writes a value to the node behind a tag that config marks writable. The node's DataType
 * (read with the metadata, or now if that was off) decides how the value is encoded.
 * Rejects with SourceWriteError: unknown_tag, not_writable, bad_value, or device.
 */
export async function writeThrough(
  table: NodeTable | undefined,
  live: { session: ClientSession; types: DataTypeResolver } | undefined,
  tag: string,
  value: ReadingValue,
): Promise<void> {
  const index = table?.writableIndex(tag);
  if (!table || index === undefined) {
    if (table?.hasTag(tag)) throw new SourceWriteError(`tag ${tag} is not writable: set writable: true on its node in the config`, 'not_writable');
    if (!table) throw new SourceWriteError(`cannot write ${tag}: the source has not reached the OPC UA server yet`, 'device');
    throw new SourceWriteError(`unknown tag ${tag}`, 'unknown_tag');
  }
  if (!live) throw new SourceWriteError(`cannot write ${tag}: not connected to the OPC UA server`, 'device');
  const nodeId = resolveNodeId(table.nodeIds[index] ?? '');
  try {
    if (table.dataTypeOf(index) === UNKNOWN_DATA_TYPE) {
      const [dataType, rank] = await live.session.read([
        { nodeId, attributeId: AttributeIds.DataType },
        { nodeId, attributeId: AttributeIds.ValueRank },
      ]);
      const [code] = await live.types.resolve([dataType?.statusCode.isGood() && dataType.value.value ? String(dataType.value.value.toString()) : '']);
      table.setType(index, code ?? UNKNOWN_DATA_TYPE, typeof rank?.value.value === 'number' && rank.value.value >= FIRST_ARRAY_RANK);
    }
  } catch (cause) {
    throw new SourceWriteError(`cannot read the DataType of ${tag}: ${(cause as Error).message}`, 'device', { cause });
  }
  const variant = encodeWrite(value, table.dataTypeOf(index), table.isArray(index));
  if (typeof variant === 'string') throw new SourceWriteError(`cannot write ${tag}: ${variant}`, 'bad_value');
  let status;
  try {
    status = await live.session.write({ nodeId, attributeId: AttributeIds.Value, value: { value: variant } });
  } catch (cause) {
    const result = serviceResultOf(cause);
    throw new SourceWriteError(`writing ${tag} failed: ${result?.name ?? (cause as Error).message}`, 'device', { cause });
  }
  if (status.isGood()) return;
  const reason = NOT_WRITABLE.has(status.value) ? 'not_writable' : BAD_VALUE.has(status.value) ? 'bad_value' : 'device';
  throw new SourceWriteError(`the server refused the write to ${tag}: ${status.name}`, reason);
}
