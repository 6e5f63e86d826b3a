import { resolveNodeId, type ClientSession } from 'node-opcua-client';
import { browsePathText, nodeIdText, parseBrowsePath, parseNodeId, tagOfBrowsePath, type BrowseName } from './address.ts';
import type { OpcuaConfig } from './config.ts';
import type { DataTypeResolver } from './datatypes.ts';
import { discover } from './discover.ts';
import { NodeTable } from './nodes.ts';
import { SettingsPool } from './settings.ts';
import { ROOT_FOLDER, targetOf, toBrowsePath, translateChunked, type Limits } from './ua.ts';

/** A configured node or discovery root the server does not have. */
export interface ResolveProblem {
  what: string;
  reason: string;
}

export interface DiscoveryReport {
  group: string;
  from: string;
  taken: number;
  leftOutCount: number;
  /** Browse paths (or NodeIds) of the first variables left out by max_variables. */
  leftOutNamed: string[];
  browseFailures: Array<{ nodeId: string; status: string }>;
}

export interface Resolution {
  table: NodeTable;
  problems: ResolveProblem[];
  discoveries: DiscoveryReport[];
  /** Nodes named twice (same NodeId); the first mention is kept. */
  duplicates: string[];
  /** Nodes whose tag was already taken by another node; they got "<tag>@<NodeId>". */
  renamedTags: string[];
}

export const groupName = (config: OpcuaConfig, index: number): string => config.groups[index]?.name ?? `group-${index}`;

/**
 * Turns the configured nodes, browse paths and discoveries into a NodeTable for this server:
 * namespace URIs are looked up in its namespace array, browse paths translated in batches,
 * discoveries walked. Run again at every connect where subscriptions must be created anew,
 * as a restarted server may have moved things.
 */
export async function resolveNodes(session: ClientSession, config: OpcuaConfig, limits: Limits, types: DataTypeResolver): Promise<Resolution> {
  const namespaces = await session.readNamespaceArray();
  const problems: ResolveProblem[] = [];
  const toId = (text: string): string | undefined => {
    const parsed = parseNodeId(text);
    const index = typeof parsed === 'string' ? -1 : typeof parsed.namespace === 'number' ? parsed.namespace : namespaces.indexOf(parsed.namespace);
    if (typeof parsed === 'string' || index < 0) {
      const reason = typeof parsed === 'string' ? parsed : `namespace ${String(parsed.namespace)} is not in the server's namespace array`;
      problems.push({ what: text, reason });
      return undefined;
    }
    // node-opcua's own text, so the same node always has the same id whatever way it was named.
    return resolveNodeId(nodeIdText(parsed, index)).toString();
  };

  // Every browse path (nodes and discovery roots) translated in one batched pass.
  const pathTexts = new Set<string>();
  for (const g of config.groups) {
    for (const n of g.nodes) if (n.browse_path) pathTexts.add(n.browse_path);
    for (const d of g.discover) if (d.from.startsWith('/')) pathTexts.add(d.from);
  }
  const pathList = [...pathTexts];
  const steps = new Map(pathList.map((p) => [p, parseBrowsePath(p) as BrowseName[]]));
  const translated = await translateChunked(session, pathList.map((p) => toBrowsePath(ROOT_FOLDER, steps.get(p) ?? [])), limits.translate);
  const pathTargets = new Map<string, string>();
  pathList.forEach((p, i) => {
    const result = translated[i];
    const target = result ? targetOf(result) : { error: 'no result' };
    if ('nodeId' in target) pathTargets.set(p, target.nodeId);
    else problems.push({ what: p, reason: target.error });
  });

  const table = new NodeTable();
  const pool = new SettingsPool();
  const duplicates: string[] = [];
  const renamedTags: string[] = [];
  const discoveries: DiscoveryReport[] = [];
  const add = (...args: Parameters<NodeTable['add']>) => {
    const r = table.add(...args);
    if (r.duplicateOf !== undefined) duplicates.push(args[0].nodeId);
    if (r.tagRenamed) renamedTags.push(args[0].nodeId);
  };

  for (const [g, group] of config.groups.entries()) {
    for (const n of group.nodes) {
      const nodeId = n.browse_path ? pathTargets.get(n.browse_path) : toId(n.node_id ?? '');
      if (!nodeId) continue;
      const pathSteps = n.browse_path ? steps.get(n.browse_path) : undefined;
      add({
        nodeId,
        tag: n.tag ?? (pathSteps ? tagOfBrowsePath(pathSteps) : (n.node_id ?? nodeId)),
        browsePath: n.browse_path,
        group: g,
        settings: pool.forGroup(group, n),
        writable: n.writable,
      });
    }
    for (const d of group.discover) {
      const rootId = d.from.startsWith('/') ? pathTargets.get(d.from) : toId(d.from);
      if (!rootId) continue;
      const rootSteps = d.from.startsWith('/') ? steps.get(d.from) : undefined;
      const found = await discover(session, rootId, d, limits, types);
      const settings = pool.forGroup(group, d);
      const prefix = d.tag_prefix.replace(/\/+$/, '');
      for (const node of found.taken) {
        const names = node.steps.map((s) => s.name).join('/');
        add({
          nodeId: node.nodeId,
          tag: prefix ? `${prefix}/${names}` : names,
          browsePath: rootSteps ? browsePathText([...rootSteps, ...node.steps]) : undefined,
          group: g,
          settings,
          writable: d.writable,
        });
      }
      const describe = (node: { nodeId: string; steps: BrowseName[] }) => (rootSteps ? browsePathText([...rootSteps, ...node.steps]) : `${d.from}/${node.steps.map((s) => s.name).join('/')}`);
      discoveries.push({
        group: groupName(config, g),
        from: d.from,
        taken: found.taken.length,
        leftOutCount: found.leftOutCount,
        leftOutNamed: found.leftOutNamed.map(describe),
        browseFailures: found.browseFailures,
      });
    }
  }
  return { table, problems, discoveries, duplicates, renamedTags };
}
