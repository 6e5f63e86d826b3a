import { AttributeIds, BrowseDirection, DataType, NodeClass, NodeClassMask, resolveNodeId, type ClientSession } from 'node-opcua-client';
import type { BrowseName } from './address.ts';
import type { OpcuaDiscover } from './config.ts';
import type { DataTypeResolver } from './datatypes.ts';
import { browseAll, HAS_PROPERTY_ID, HIERARCHICAL_REFERENCES, readChunked, type Limits } from './ua.ts';

/** Every field of a ReferenceDescription (BrowseResultMask.All). */
const RESULT_MASK_ALL = 63;
/** Left-out variables named in the warning; the rest are counted. */
export const MAX_NAMED_LEFT_OUT = 20;

export interface Discovered {
  nodeId: string;
  /** Browse names from the discovery root down to the node. */
  steps: BrowseName[];
}

export interface DiscoveryResult {
  taken: Discovered[];
  leftOutCount: number;
  /** The first MAX_NAMED_LEFT_OUT left out, for the warning. */
  leftOutNamed: Discovered[];
  /** Nodes the server refused to browse, with the status. */
  browseFailures: Array<{ nodeId: string; status: string }>;
}

const CLASS_MASK: Record<OpcuaDiscover['node_classes'][number], number> = {
  Object: NodeClassMask.Object,
  Variable: NodeClassMask.Variable,
  View: NodeClassMask.View,
};
const CLASS_OF: Partial<Record<number, OpcuaDiscover['node_classes'][number]>> = {
  [NodeClass.Object]: 'Object',
  [NodeClass.Variable]: 'Variable',
  [NodeClass.View]: 'View',
};

/**
 * Walks hierarchical references below a root, level by level (one batched Browse per level),
 * collecting variables that pass the type filters, then applies the cap. Each node is visited
 * once, so reference cycles end. Order is breadth-first in the server's reference order.
 */
export async function discover(session: ClientSession, rootId: string, d: OpcuaDiscover, limits: Limits, types: DataTypeResolver): Promise<DiscoveryResult> {
  const walk = new Set(d.node_classes);
  const mask = d.node_classes.reduce((m, c) => m | CLASS_MASK[c], NodeClassMask.Variable);
  const typeDefinitions = new Set(d.type_definitions.map((t) => resolveNodeId(t).toString()));
  const visited = new Set<string>([rootId]);
  const candidates: Discovered[] = [];
  const browseFailures: DiscoveryResult['browseFailures'] = [];
  let level: Discovered[] = [{ nodeId: rootId, steps: [] }];

  for (let depth = 1; depth <= d.max_depth && level.length > 0; depth++) {
    const results = await browseAll(
      session,
      level.map((n) => ({
        nodeId: resolveNodeId(n.nodeId),
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: resolveNodeId(HIERARCHICAL_REFERENCES),
        includeSubtypes: true,
        nodeClassMask: mask,
        resultMask: RESULT_MASK_ALL,
      })),
      limits.browse,
    );
    const next: Discovered[] = [];
    level.forEach((parent, i) => {
      const result = results[i];
      if (result?.status) browseFailures.push({ nodeId: parent.nodeId, status: result.status });
      for (const ref of result?.references ?? []) {
        if (ref.nodeId.serverIndex || ref.nodeId.namespaceUri) continue; // on another server
        const id = ref.nodeId.toString();
        if (visited.has(id)) continue;
        visited.add(id);
        const node = { nodeId: id, steps: [...parent.steps, { namespaceIndex: ref.browseName.namespaceIndex, name: ref.browseName.name ?? '' }] };
        const nodeClass = CLASS_OF[ref.nodeClass];
        if (ref.nodeClass === NodeClass.Variable) {
          if (!d.include_properties && ref.referenceTypeId.namespace === 0 && ref.referenceTypeId.value === HAS_PROPERTY_ID) continue;
          if (typeDefinitions.size === 0 || typeDefinitions.has(ref.typeDefinition.toString())) candidates.push(node);
        }
        if (nodeClass && walk.has(nodeClass)) next.push(node);
      }
    });
    level = next;
  }

  const kept = d.data_types.length > 0 ? await byDataType(session, candidates, d.data_types, limits, types) : candidates;
  const taken = kept.slice(0, d.max_variables);
  const leftOut = kept.slice(d.max_variables);
  return { taken, leftOutCount: leftOut.length, leftOutNamed: leftOut.slice(0, MAX_NAMED_LEFT_OUT), browseFailures };
}

async function byDataType(session: ClientSession, nodes: Discovered[], wanted: readonly string[], limits: Limits, types: DataTypeResolver): Promise<Discovered[]> {
  const values = await readChunked(
    session,
    nodes.map((n) => ({ nodeId: resolveNodeId(n.nodeId), attributeId: AttributeIds.DataType })),
    limits.read,
  );
  const ids = values.map((v) => (v.statusCode.isGood() && v.value.value ? String(v.value.value.toString()) : ''));
  const codes = await types.resolve(ids);
  const allowed = new Set(wanted.map((name) => DataType[name as keyof typeof DataType]));
  return nodes.filter((_, i) => allowed.has(codes[i] ?? DataType.Null));
}
