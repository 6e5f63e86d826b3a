import type { Logger } from '../../../common/logger.ts';
import type { FilterFallback } from './monitor.ts';
import type { NodeTable } from './nodes.ts';
import type { Resolution } from './resolve.ts';
import type { CreateReport } from './subscriptions.ts';

/** Nodes named in a log line or status; the rest are counted. */
export const MAX_NAMED = 20;

export function nameList(names: string[], total = names.length): string {
  const shown = names.slice(0, MAX_NAMED).join(', ');
  return total > MAX_NAMED ? `${shown} and ${total - MAX_NAMED} more` : shown;
}

/** Logs what resolution could not find or had to change; returns a status line when nodes are missing. */
export function reportResolution(r: Resolution, log: Logger): string | undefined {
  for (const d of r.discoveries) {
    log.info({ group: d.group, from: d.from, variables: d.taken }, 'Discovered variables.');
    if (d.leftOutCount > 0) {
      log.warn(
        { group: d.group, from: d.from, taken: d.taken, leftOut: d.leftOutCount, leftOutNodes: nameList(d.leftOutNamed, d.leftOutCount) },
        'Discovery found more variables than max_variables; the rest are not read. Raise max_variables or narrow the discovery to read them.',
      );
    }
    if (d.browseFailures.length > 0) {
      log.warn({ group: d.group, nodes: nameList(d.browseFailures.map((f) => `${f.nodeId} (${f.status})`)) }, 'The server refused to browse some nodes during discovery.');
    }
  }
  if (r.duplicates.length > 0) log.warn({ nodes: nameList(r.duplicates) }, 'Nodes named more than once are read once, with the settings of their first mention.');
  if (r.renamedTags.length > 0) log.warn({ nodes: nameList(r.renamedTags) }, 'Different nodes had the same tag; the later ones are tagged <tag>@<NodeId>.');
  if (r.problems.length === 0) return undefined;
  const named = r.problems.map((p) => `${p.what} (${p.reason})`);
  log.error({ count: r.problems.length, nodes: nameList(named) }, 'Configured nodes were not found on the server; they are not read.');
  return `${r.problems.length} configured node(s) not found: ${nameList(named, r.problems.length)}`;
}

/** Logs filter fallbacks and nodes that could not be monitored; returns a status line for the latter. */
export function reportMonitoring(report: CreateReport, table: NodeTable, log: Logger): string | undefined {
  if (report.filterFallbacks.length > 0) {
    const byNode = (f: FilterFallback) => `${table.nodeIds[f.index] ?? f.index} (${f.refusedWith}, now ${f.nowWith})`;
    log.warn({ count: report.filterFallbacks.length, nodes: nameList(report.filterFallbacks.map(byNode), report.filterFallbacks.length) }, 'Nodes refused their DataChangeFilter; they are monitored without it.');
  }
  if (report.failed.length === 0) return undefined;
  const named = report.failed.map((f) => `${table.nodeIds[f.index] ?? f.index} (${f.status})`);
  log.error({ count: report.failed.length, nodes: nameList(named, report.failed.length) }, 'Nodes could not be monitored; they are not read.');
  return `${report.failed.length} node(s) could not be monitored: ${nameList(named, report.failed.length)}`;
}
