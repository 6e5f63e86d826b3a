import { z } from 'zod';
import type { TagDataType } from '../types.ts';
import { parseBrowsePath, parseNodeId } from './address.ts';
import { securitySchema, authSchema } from './config-security.ts';

export { SECURITY_MODES, SECURITY_POLICIES, DEFAULT_PKI_DIR, securityPolicyOf } from './config-security.ts';

export const DEFAULT_SESSION_TIMEOUT_MS = 60_000;
export const MIN_SESSION_TIMEOUT_MS = 10_000;
export const MAX_SESSION_TIMEOUT_MS = 3_600_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_RECONNECT_INITIAL_MS = 1_000;
export const DEFAULT_RECONNECT_MAX_MS = 300_000;
export const MIN_DELAY_MS = 100;
export const MAX_DELAY_MS = 3_600_000;
export const DEFAULT_MAX_ITEMS_PER_CALL = 1_000;
export const DEFAULT_MAX_NODES_PER_READ = 1_000;
export const DEFAULT_MAX_NODES_PER_BROWSE = 1_000;
export const MAX_NODES_PER_CALL = 100_000;
export const DEFAULT_PUBLISHING_INTERVAL_MS = 1_000;
export const MIN_INTERVAL_MS = 10;
export const MAX_INTERVAL_MS = 3_600_000;
export const DEFAULT_KEEP_ALIVE_COUNT = 10;
export const DEFAULT_LIFETIME_COUNT = 60;
/** OPC UA requires lifetime_count >= 3 x keep_alive_count. */
export const LIFETIME_PER_KEEP_ALIVE = 3;
export const MAX_COUNT = 100_000;
export const DEFAULT_MAX_NOTIFICATIONS_PER_PUBLISH = 10_000;
export const DEFAULT_MAX_ITEMS_PER_SUBSCRIPTION = 10_000;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** -1 asks the server to sample at the subscription's publishing interval. */
export const SAMPLE_AT_PUBLISHING_INTERVAL = -1;
export const DEFAULT_QUEUE_SIZE = 10;
export const MAX_QUEUE_SIZE = 100_000;
export const DEFAULT_DISCOVERY_DEPTH = 5;
export const MAX_DISCOVERY_DEPTH = 64;
export const DEFAULT_MAX_VARIABLES = 10_000;
export const MAX_MAX_VARIABLES = 1_000_000;
export const PERCENT_MAX = 100;

const NAME = /^[A-Za-z0-9_.-]+$/;

export const DATA_TYPE_NAMES = [
  'Boolean', 'SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float', 'Double', 'String', 'DateTime',
] as const satisfies readonly TagDataType[];

const nodeIdString = z.string().superRefine((text, ctx) => {
  const parsed = parseNodeId(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const browsePathString = z.string().superRefine((text, ctx) => {
  const parsed = parseBrowsePath(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

/** A node id or a browse path (starting with "/"). */
const nodeRef = z.string().superRefine((text, ctx) => {
  const parsed = text.startsWith('/') ? parseBrowsePath(text) : parseNodeId(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

export const filterSchema = z
  .object({
    trigger: z
      .enum(['Status', 'StatusValue', 'StatusValueTimestamp'])
      .default('StatusValue')
      .describe('What counts as a change: the status only, status or value (OPC UA default), or also the source timestamp.'),
    deadband_type: z.enum(['none', 'absolute', 'percent']).default('none').describe('none; absolute: in engineering units; percent: of the EURange (the server needs one).'),
    deadband_value: z.number().min(0).default(0).describe('Deadband size: units for absolute, 0-100 for percent.'),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.deadband_type === 'percent' && f.deadband_value > PERCENT_MAX) {
      ctx.addIssue({ code: 'custom', path: ['deadband_value'], message: `a percent deadband is 0-${PERCENT_MAX}, got ${f.deadband_value}` });
    }
  })
  .describe('DataChangeFilter. A node that refuses it (e.g. a deadband on a String) is monitored again without it, and logged.');

/** Monitoring settings a node may set for itself, falling back to its group's. */
const itemOverrides = {
  sampling_interval_ms: z.number().int().min(SAMPLE_AT_PUBLISHING_INTERVAL).max(MAX_INTERVAL_MS).optional().describe("Overrides the group's sampling_interval_ms."),
  queue_size: z.number().int().min(1).max(MAX_QUEUE_SIZE).optional().describe("Overrides the group's queue_size."),
  discard_oldest: z.boolean().optional().describe("Overrides the group's discard_oldest."),
  filter: filterSchema.optional().describe("Overrides the group's filter."),
};

export const nodeSchema = z
  .object({
    node_id: nodeIdString.optional().describe('NodeId, e.g. ns=2;s=Line1.Temp, i=2258, or nsu=<namespace URI>;s=Temp (resolved at each connect).'),
    browse_path: browsePathString.optional().describe('Browse path from the Root folder instead of a NodeId, e.g. /Objects/2:Plant/2:Line1/2:Temp.'),
    tag: z.string().min(1).optional().describe('Tag path of its readings. Default: the browse path without /Objects, or the NodeId text.'),
    writable: z.boolean().default(false).describe('Accept writes to this node from the aggregated OPC UA server (write-through). Off unless set.'),
    ...itemOverrides,
  })
  .strict()
  .superRefine((n, ctx) => {
    if ((n.node_id === undefined) === (n.browse_path === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'expected exactly one of node_id and browse_path' });
  })
  .describe('One node to read.');

export const discoverSchema = z
  .object({
    from: nodeRef.default('/Objects').describe('Where discovery starts: a browse path (/Objects/2:Plant) or a NodeId.'),
    max_depth: z.number().int().min(1).max(MAX_DISCOVERY_DEPTH).default(DEFAULT_DISCOVERY_DEPTH).describe('Levels below `from` to walk; 1 takes its direct children only.'),
    node_classes: z
      .array(z.enum(['Object', 'Variable', 'View']))
      .min(1)
      .default(['Object', 'Variable'])
      .describe('Node classes walked into. Variables found are always candidates; their own child variables are walked only when Variable is listed.'),
    type_definitions: z.array(nodeIdString).default([]).describe('Take only variables of these VariableTypes, e.g. i=2368 (AnalogItemType). Empty: any.'),
    data_types: z.array(z.enum(DATA_TYPE_NAMES)).default([]).describe('Take only variables of these builtin types. Empty: any.'),
    include_properties: z.boolean().default(false).describe('Also take properties (HasProperty), e.g. EURange and EngineeringUnits.'),
    max_variables: z
      .number()
      .int()
      .min(1)
      .max(MAX_MAX_VARIABLES)
      .default(DEFAULT_MAX_VARIABLES)
      .describe('Cap on the variables taken; the rest are left out with a warning naming them.'),
    tag_prefix: z.string().default('').describe('Prefix of the tags; a tag is the prefix and the browse names below `from`, joined by "/".'),
    writable: z.boolean().default(false).describe('Accept writes to the discovered nodes (write-through). Off unless set.'),
    ...itemOverrides,
  })
  .strict()
  .describe('Recursive browse that finds variables to read.');

export const groupSchema = z
  .object({
    name: z.string().regex(NAME, { message: 'expected letters, digits, _, . or -' }).optional().describe('Name used in logs. Default: group-<index>.'),
    mode: z.enum(['subscription', 'poll']).default('subscription').describe('subscription: monitored items; poll: batched Read calls every poll_interval_ms.'),
    publishing_interval_ms: z.number().int().min(MIN_INTERVAL_MS).max(MAX_INTERVAL_MS).default(DEFAULT_PUBLISHING_INTERVAL_MS).describe('Publishing interval of the subscription.'),
    keep_alive_count: z.number().int().min(1).max(MAX_COUNT).default(DEFAULT_KEEP_ALIVE_COUNT).describe('Publishing intervals without data before the server sends a keep-alive.'),
    lifetime_count: z
      .number()
      .int()
      .min(LIFETIME_PER_KEEP_ALIVE)
      .max(MAX_COUNT)
      .default(DEFAULT_LIFETIME_COUNT)
      .describe('Publishing intervals without a Publish request before the server drops the subscription; at least 3 x keep_alive_count. Sets how long a subscription survives an outage (and can be transferred).'),
    max_notifications_per_publish: z.number().int().min(0).max(MAX_COUNT).default(DEFAULT_MAX_NOTIFICATIONS_PER_PUBLISH).describe('Notifications per Publish response; 0 lets the server decide.'),
    max_items_per_subscription: z.number().int().min(1).max(MAX_MAX_VARIABLES).default(DEFAULT_MAX_ITEMS_PER_SUBSCRIPTION).describe('Nodes per OPC UA subscription; a bigger group gets several.'),
    poll_interval_ms: z.number().int().min(MIN_INTERVAL_MS).max(MAX_INTERVAL_MS).default(DEFAULT_POLL_INTERVAL_MS).describe('Poll mode: interval between reads of all the nodes.'),
    sampling_interval_ms: z
      .number()
      .int()
      .min(SAMPLE_AT_PUBLISHING_INTERVAL)
      .max(MAX_INTERVAL_MS)
      .default(SAMPLE_AT_PUBLISHING_INTERVAL)
      .describe('How often the server samples each node; -1: at the publishing interval, 0: on every change where the server can.'),
    queue_size: z.number().int().min(1).max(MAX_QUEUE_SIZE).default(DEFAULT_QUEUE_SIZE).describe('Values the server queues per node between publishes (and during an outage).'),
    discard_oldest: z.boolean().default(true).describe('When the queue is full, drop the oldest value (true) or the newest.'),
    filter: filterSchema.optional().describe('DataChangeFilter for every node of the group.'),
    nodes: z.array(nodeSchema).default([]).describe('Nodes by NodeId or browse path.'),
    discover: z.array(discoverSchema).default([]).describe('Recursive discoveries.'),
  })
  .strict()
  .superRefine((g, ctx) => {
    if (g.nodes.length === 0 && g.discover.length === 0) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'a group needs nodes or discover' });
    if (g.lifetime_count < LIFETIME_PER_KEEP_ALIVE * g.keep_alive_count) {
      ctx.addIssue({ code: 'custom', path: ['lifetime_count'], message: `must be at least 3 x keep_alive_count (${LIFETIME_PER_KEEP_ALIVE * g.keep_alive_count}), got ${g.lifetime_count}` });
    }
  })
  .describe('Nodes read the same way: one subscription (or more, see max_items_per_subscription) or one poll loop.');

export const opcuaConfigSchema = z
  .object({
    endpoint_url: z.string().regex(/^opc\.tcp:\/\/[^\s/]+/, { message: 'expected an opc.tcp:// URL' }).describe('Server endpoint, e.g. opc.tcp://plc1:4840.'),
    security: securitySchema.prefault({}),
    auth: authSchema.prefault({}),
    session_timeout_ms: z.number().int().min(MIN_SESSION_TIMEOUT_MS).max(MAX_SESSION_TIMEOUT_MS).default(DEFAULT_SESSION_TIMEOUT_MS).describe('Requested session timeout.'),
    request_timeout_ms: z.number().int().min(MIN_DELAY_MS).max(MAX_INTERVAL_MS).default(DEFAULT_REQUEST_TIMEOUT_MS).describe('Longest wait for a reply to a request, and for a connection to open.'),
    reconnect: z
      .object({
        initial_delay_ms: z.number().int().min(MIN_DELAY_MS).max(MAX_DELAY_MS).default(DEFAULT_RECONNECT_INITIAL_MS).describe('Wait before the first reconnect attempt; doubles each attempt, with jitter.'),
        max_delay_ms: z.number().int().min(MIN_DELAY_MS).max(MAX_DELAY_MS).default(DEFAULT_RECONNECT_MAX_MS).describe('Longest wait between reconnect attempts.'),
      })
      .strict()
      .prefault({})
      .superRefine((r, ctx) => {
        if (r.max_delay_ms < r.initial_delay_ms) ctx.addIssue({ code: 'custom', path: ['max_delay_ms'], message: `must be at least initial_delay_ms (${r.initial_delay_ms})` });
      })
      .describe('Exponential backoff with jitter after a lost or refused connection.'),
    max_items_per_call: z.number().int().min(1).max(MAX_NODES_PER_CALL).default(DEFAULT_MAX_ITEMS_PER_CALL).describe("Monitored items per CreateMonitoredItems call (lowered to the server's MaxMonitoredItemsPerCall)."),
    max_nodes_per_read: z.number().int().min(1).max(MAX_NODES_PER_CALL).default(DEFAULT_MAX_NODES_PER_READ).describe("Nodes per Read call (lowered to the server's MaxNodesPerRead)."),
    max_nodes_per_browse: z.number().int().min(1).max(MAX_NODES_PER_CALL).default(DEFAULT_MAX_NODES_PER_BROWSE).describe("Nodes per Browse or TranslateBrowsePaths call (lowered to the server's limits)."),
    read_metadata: z.boolean().default(true).describe('Read DataType, EngineeringUnits, EURange and Description of every node and declare them (the aggregated server and report-by-exception use them).'),
    groups: z.array(groupSchema).min(1).describe('Groups of nodes; each has its own subscription settings or poll interval.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.groups.forEach((g, i) => {
      const name = g.name ?? `group-${i}`;
      const first = seen.get(name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `duplicate group name "${name}" (also groups[${first}])` });
      else seen.set(name, i);
    });
  })
  .describe('OPC UA source: subscribes to (or polls) nodes of one server.');

export type OpcuaConfig = z.output<typeof opcuaConfigSchema>;
export type OpcuaGroup = z.output<typeof groupSchema>;
export type OpcuaNode = z.output<typeof nodeSchema>;
export type OpcuaDiscover = z.output<typeof discoverSchema>;
export type OpcuaFilter = z.output<typeof filterSchema>;
