import {
  AttributeIds,
  CreateMonitoredItemsRequest,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  MonitoringMode,
  StatusCodes,
  TimestampsToReturn,
  resolveNodeId,
  
} from 'node-opcua-client';
import type { OpcuaFilter } from './config.ts';
import type { ItemSettings, NodeTable } from './nodes.ts';
import { chunks, type Limits, type UaSession } from './ua.ts';

/** Statuses that mean "this node does not take this filter": try again with less of it. */
const FILTER_REFUSED = new Set<number>(
  [StatusCodes.BadFilterNotAllowed, StatusCodes.BadMonitoredItemFilterUnsupported, StatusCodes.BadMonitoredItemFilterInvalid, StatusCodes.BadDeadbandFilterInvalid].map((c) => c.value),
);

const TRIGGER: Record<OpcuaFilter['trigger'], DataChangeTrigger> = {
  Status: DataChangeTrigger.Status,
  StatusValue: DataChangeTrigger.StatusValue,
  StatusValueTimestamp: DataChangeTrigger.StatusValueTimestamp,
};
const DEADBAND: Record<OpcuaFilter['deadband_type'], DeadbandType> = {
  none: DeadbandType.None,
  absolute: DeadbandType.Absolute,
  percent: DeadbandType.Percent,
};

/**
 * The filter sent at each step: the configured one; then, when refused, only its trigger
 * (no deadband) if that is not the default; then none. Steps that would send the same as the
 * one before are skipped. Pure.
 */
export function filterSteps(filter: OpcuaFilter | undefined): Array<OpcuaFilter | undefined> {
  if (!filter) return [undefined];
  const steps: Array<OpcuaFilter | undefined> = [filter];
  if (filter.deadband_type !== 'none' && filter.trigger !== 'StatusValue') steps.push({ trigger: filter.trigger, deadband_type: 'none', deadband_value: 0 });
  steps.push(undefined);
  return steps;
}

export function toDataChangeFilter(filter: OpcuaFilter | undefined): DataChangeFilter | null {
  if (!filter) return null;
  return new DataChangeFilter({ trigger: TRIGGER[filter.trigger], deadbandType: DEADBAND[filter.deadband_type], deadbandValue: filter.deadband_value });
}

export interface FilterFallback {
  index: number;
  /** The status the server refused the configured filter with. */
  refusedWith: string;
  /** What the node is monitored with now. */
  nowWith: 'trigger only' | 'no filter';
}

export interface MonitorOutcome {
  created: number;
  filterFallbacks: FilterFallback[];
  failed: Array<{ index: number; status: string }>;
}

/**
 * Creates the monitored items of `indexes` on a subscription, in CreateMonitoredItems calls of
 * at most limits.monitor items. Client handle = node index + 1. A node whose filter is refused
 * is created again with less filter (see filterSteps), never left out silently; a node that
 * cannot be monitored at all is returned in `failed` with the status.
 */
export async function createMonitoredItems(session: UaSession, subscriptionId: number, table: NodeTable, indexes: readonly number[], limits: Limits): Promise<MonitorOutcome> {
  const outcome: MonitorOutcome = { created: 0, filterFallbacks: [], failed: [] };
  const refusedWith = new Map<number, string>();
  // Steps and filter objects per settings object: nodes sharing settings share them too.
  const memo = new Map<ItemSettings, { steps: Array<OpcuaFilter | undefined>; filters: Array<DataChangeFilter | null> }>();
  const stepsOf = (i: number) => {
    const settings = table.settingsOf(i);
    let m = memo.get(settings);
    if (!m) {
      const steps = filterSteps(settings.filter);
      m = { steps, filters: steps.map(toDataChangeFilter) };
      memo.set(settings, m);
    }
    return m;
  };
  let pending = [...indexes];
  for (let step = 0; pending.length > 0; step++) {
    const retry: number[] = [];
    for (const part of chunks(pending, limits.monitor)) {
      const response = await session.createMonitoredItems(
        new CreateMonitoredItemsRequest({
          subscriptionId,
          timestampsToReturn: TimestampsToReturn.Both,
          itemsToCreate: part.map((i) => {
            const s = table.settingsOf(i);
            return {
              itemToMonitor: { nodeId: resolveNodeId(table.nodeIds[i] ?? ''), attributeId: AttributeIds.Value },
              monitoringMode: MonitoringMode.Reporting,
              requestedParameters: {
                clientHandle: i + 1,
                samplingInterval: s.samplingIntervalMs,
                queueSize: s.queueSize,
                discardOldest: s.discardOldest,
                filter: stepsOf(i).filters[step] ?? null,
              },
            };
          }),
        }),
      );
      const results = response.results ?? [];
      part.forEach((i, j) => {
        const status = results[j]?.statusCode;
        if (status?.isGood()) {
          outcome.created++;
          const first = refusedWith.get(i);
          if (first !== undefined) outcome.filterFallbacks.push({ index: i, refusedWith: first, nowWith: stepsOf(i).steps[step] ? 'trigger only' : 'no filter' });
        } else if (status && FILTER_REFUSED.has(status.value) && step + 1 < stepsOf(i).steps.length) {
          if (!refusedWith.has(i)) refusedWith.set(i, status.name);
          retry.push(i);
        } else {
          outcome.failed.push({ index: i, status: status?.name ?? 'no result' });
        }
      });
    }
    pending = retry;
  }
  return outcome;
}
