import { AttributeIds, resolveNodeId, type ClientSession, type DataValue } from 'node-opcua-client';
import type { TagInfo } from '../types.ts';
import type { DataTypeResolver } from './datatypes.ts';
import { tagDataTypeOf } from './datatypes.ts';
import type { NodeTable } from './nodes.ts';
import { readChunked, targetOf, toBrowsePath, translateChunked, type Limits } from './ua.ts';

const ATTRIBUTES = [AttributeIds.DataType, AttributeIds.ValueRank, AttributeIds.Description] as const;
const PROPERTIES = ['EURange', 'EngineeringUnits'] as const;
/** ValueRank -1 is a scalar, -2 any, -3 scalar or one dimension; 0 and above are arrays. */
const FIRST_ARRAY_RANK = 0;

/**
 * Reads what the server says about each node (DataType, ValueRank, Description, and the
 * EURange and EngineeringUnits properties when it has them), records type and array-ness in
 * the table for writes, and returns the TagInfo list to declare. Batched: three attribute
 * reads and two path translations per node, in calls the server's limits allow.
 */
export async function readMetadata(session: ClientSession, table: NodeTable, limits: Limits, types: DataTypeResolver): Promise<TagInfo[]> {
  const tags: TagInfo[] = [];
  // Node by node chunk, so a 50,000-node source never holds every request and reply at once.
  const perCall = Math.max(1, Math.floor(Math.min(limits.read / ATTRIBUTES.length, limits.translate / PROPERTIES.length)));
  for (let first = 0; first < table.size; first += perCall) {
    const last = Math.min(table.size, first + perCall);
    tags.push(...(await readChunk(session, table, first, last, limits, types)));
  }
  return tags;
}

async function readChunk(session: ClientSession, table: NodeTable, first: number, last: number, limits: Limits, types: DataTypeResolver): Promise<TagInfo[]> {
  const count = last - first;
  const reads = [];
  const paths = [];
  for (let i = first; i < last; i++) {
    const nodeIdText = table.nodeIds[i] ?? '';
    const nodeId = resolveNodeId(nodeIdText);
    for (const attributeId of ATTRIBUTES) reads.push({ nodeId, attributeId });
    for (const name of PROPERTIES) paths.push(toBrowsePath(nodeIdText, [{ namespaceIndex: 0, name }]));
  }
  const attrs = await readChunked(session, reads, limits.read);
  const at = (k: number, a: number): DataValue | undefined => attrs[k * ATTRIBUTES.length + a];
  const dataTypeIds = Array.from({ length: count }, (_, k) => {
    const dv = at(k, 0);
    return dv?.statusCode.isGood() && dv.value.value ? String(dv.value.value.toString()) : '';
  });
  const codes = await types.resolve(dataTypeIds);

  const targets = (await translateChunked(session, paths, limits.translate)).map(targetOf);
  const found: Array<{ k: number; property: number; nodeId: string }> = [];
  targets.forEach((t, j) => {
    if ('nodeId' in t) found.push({ k: Math.floor(j / PROPERTIES.length), property: j % PROPERTIES.length, nodeId: t.nodeId });
  });
  const propertyValues = await readChunked(
    session,
    found.map((f) => ({ nodeId: resolveNodeId(f.nodeId), attributeId: AttributeIds.Value })),
    limits.read,
  );
  const euRange = new Map<number, { low: number; high: number }>();
  const unit = new Map<number, string>();
  found.forEach((f, j) => {
    const dv = propertyValues[j];
    if (!dv?.statusCode.isGood()) return;
    const value = dv.value.value as { low?: unknown; high?: unknown; displayName?: { text?: string | null } } | null;
    if (!value) return;
    if (f.property === 0 && typeof value.low === 'number' && typeof value.high === 'number') euRange.set(f.k, { low: value.low, high: value.high });
    if (f.property === 1 && value.displayName?.text) unit.set(f.k, value.displayName.text);
  });

  const tags: TagInfo[] = [];
  for (let k = 0; k < count; k++) {
    const i = first + k;
    const code = codes[k] ?? 0;
    const rank = at(k, 1);
    const isArray = rank?.statusCode.isGood() === true && typeof rank.value.value === 'number' && rank.value.value >= FIRST_ARRAY_RANK;
    table.setType(i, code, isArray);
    // A node the server does not have is not declared; monitoring reports it.
    if (!at(k, 0)?.statusCode.isGood()) continue;
    const description = at(k, 2)?.value.value as { text?: string | null } | null | undefined;
    const dataType = tagDataTypeOf(code);
    const range = euRange.get(k);
    const u = unit.get(k);
    tags.push({
      tag: table.tags[i] ?? '',
      ...(dataType ? { dataType } : {}),
      ...(isArray ? { isArray } : {}),
      ...(u ? { unit: u } : {}),
      ...(range ? { euRange: range } : {}),
      ...(description?.text ? { description: description.text } : {}),
      ...(table.isWritable(i) ? { writable: true } : {}),
    });
  }
  return tags;
}

/** TagInfo without asking the server (read_metadata: false): tag and writability only. */
export function bareTags(table: NodeTable): TagInfo[] {
  return table.tags.map((tag, i) => (table.isWritable(i) ? { tag, writable: true } : { tag }));
}
