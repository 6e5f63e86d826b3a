import {
  AttributeIds,
  BrowsePath,
  StatusCodes,
  VariableIds,
  resolveNodeId,
  type BrowseDescriptionOptions,
  type BrowsePathResult,
  type ClientSession,
  type ClientSessionPublishService,
  type ClientSessionRawSubscriptionService,
  type DataValue,
  type ReadValueIdOptions,
  type ReferenceDescription,
  type StatusCode,
} from 'node-opcua-client';
import type { OpcuaConfig } from './config.ts';
import type { BrowseName } from './address.ts';

/**
 * A session with the raw subscription and publish services, which node-opcua's session
 * implements but its ClientSession type leaves out: the driver manages subscriptions itself.
 */
export type UaSession = ClientSession &
  ClientSessionRawSubscriptionService &
  ClientSessionPublishService & {
    setPublishingMode(publishingEnabled: boolean, subscriptionIds: number[]): Promise<StatusCode[]>;
  };

/** The Root folder, start of every configured browse path. */
export const ROOT_FOLDER = 'i=84';
export const HIERARCHICAL_REFERENCES = 'i=33';
export const HAS_PROPERTY_ID = 46;
/** BrowseNext rounds per node before a server that keeps handing out continuation points is cut off. */
const MAX_BROWSE_NEXT_ROUNDS = 1_000;

/** Nodes per call for each service: the configured value, lowered to what the server announces. */
export interface Limits {
  read: number;
  browse: number;
  translate: number;
  monitor: number;
}

const LIMIT_NODES = [
  VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
  VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse,
  VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIds,
  VariableIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
];

/** Reads the server's OperationLimits (0 or unreadable: no limit) and combines them with config. */
export async function readLimits(session: ClientSession, config: OpcuaConfig): Promise<Limits> {
  const values = await session.read(LIMIT_NODES.map((id) => ({ nodeId: resolveNodeId(id), attributeId: AttributeIds.Value })));
  const server = values.map((dv) => (dv.statusCode.isGood() && typeof dv.value.value === 'number' && dv.value.value > 0 ? dv.value.value : Infinity));
  const min = (configured: number, i: number) => Math.max(1, Math.min(configured, server[i] ?? Infinity));
  return {
    read: min(config.max_nodes_per_read, 0),
    browse: min(config.max_nodes_per_browse, 1),
    translate: min(config.max_nodes_per_browse, 2),
    monitor: min(config.max_items_per_call, 3),
  };
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Read in calls of at most `chunk` nodes; results in input order. */
export async function readChunked(session: ClientSession, nodes: ReadValueIdOptions[], chunk: number): Promise<DataValue[]> {
  const out: DataValue[] = [];
  for (const part of chunks(nodes, chunk)) out.push(...(await session.read(part)));
  return out;
}

/** A browse path from config as a TranslateBrowsePaths request element. */
export function toBrowsePath(start: string, steps: readonly BrowseName[]): BrowsePath {
  return new BrowsePath({
    startingNode: resolveNodeId(start),
    relativePath: {
      elements: steps.map((s) => ({
        referenceTypeId: resolveNodeId(HIERARCHICAL_REFERENCES),
        isInverse: false,
        includeSubtypes: true,
        targetName: { namespaceIndex: s.namespaceIndex, name: s.name },
      })),
    },
  });
}

/** TranslateBrowsePathsToNodeIds in calls of at most `chunk` paths; results in input order. */
export async function translateChunked(session: ClientSession, paths: BrowsePath[], chunk: number): Promise<BrowsePathResult[]> {
  const out: BrowsePathResult[] = [];
  for (const part of chunks(paths, chunk)) out.push(...(await session.translateBrowsePath(part)));
  return out;
}

/** The NodeId text a translate result points at, or the reason it found none. */
export function targetOf(result: BrowsePathResult): { nodeId: string } | { error: string } {
  if (!result.statusCode.isGood()) return { error: result.statusCode.name };
  const target = result.targets?.[0];
  if (!target) return { error: StatusCodes.BadNoMatch.name };
  return { nodeId: target.targetId.toString() };
}

/**
 * Browse in calls of at most `chunk` nodes, following continuation points, so each node's
 * references come back complete. Results in input order; a node the server refused gets
 * an empty list and its status.
 */
export async function browseAll(
  session: ClientSession,
  descriptions: BrowseDescriptionOptions[],
  chunk: number,
): Promise<Array<{ references: ReferenceDescription[]; status: string | undefined }>> {
  const out: Array<{ references: ReferenceDescription[]; status: string | undefined }> = [];
  for (const part of chunks(descriptions, chunk)) {
    const results = await session.browse(part);
    const collected = results.map((r) => ({ references: [...(r.references ?? [])], status: r.statusCode.isGood() ? undefined : r.statusCode.name }));
    let pending = results.map((r, i) => ({ i, point: r.continuationPoint })).filter((p) => p.point && p.point.length > 0);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_BROWSE_NEXT_ROUNDS) {
        await session.browseNext(pending.map((p) => p.point as Buffer), true);
        break;
      }
      const next = await session.browseNext(pending.map((p) => p.point as Buffer), false);
      const still: typeof pending = [];
      next.forEach((r, k) => {
        const p = pending[k];
        if (!p) return;
        collected[p.i]?.references.push(...(r.references ?? []));
        if (r.continuationPoint && r.continuationPoint.length > 0) still.push({ i: p.i, point: r.continuationPoint });
      });
      pending = still;
    }
    out.push(...collected);
  }
  return out;
}
