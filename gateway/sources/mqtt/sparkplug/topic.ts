/**
 * Sparkplug B topic names (Sparkplug 3.0, chapter 4): spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]. Pure.
 */
export const SPARKPLUG_B_NAMESPACE = 'spBv1.0';

/** The message types that carry or end a node's or device's data. */
export const DATA_MESSAGE_TYPES = ['NBIRTH', 'NDEATH', 'NDATA', 'DBIRTH', 'DDEATH', 'DDATA'] as const;
export type DataMessageType = (typeof DATA_MESSAGE_TYPES)[number];
/** Commands and host state: valid Sparkplug, but not data for this source to read. */
const PASSED_OVER = new Set(['NCMD', 'DCMD', 'STATE']);

export interface SparkplugTopic {
  type: DataMessageType;
  group: string;
  node: string;
  /** Present on D* messages only. */
  device?: string;
}

export type ParsedTopic = SparkplugTopic | { passOver: true } | { reason: string };

export function parseSparkplugTopic(topic: string): ParsedTopic {
  const levels = topic.split('/');
  if (levels[0] !== SPARKPLUG_B_NAMESPACE) return { reason: `not a Sparkplug B topic (it does not start with ${SPARKPLUG_B_NAMESPACE}/)` };
  // Sparkplug 3.0 host state: spBv1.0/STATE/<host_id>.
  if (levels[1] === 'STATE') return { passOver: true };
  const [, group, type, node, device, ...rest] = levels;
  if (type !== undefined && PASSED_OVER.has(type)) return { passOver: true };
  if (!(DATA_MESSAGE_TYPES as readonly string[]).includes(type ?? '')) return { reason: `unknown Sparkplug message type '${type ?? ''}'` };
  const messageType = type as DataMessageType;
  const isDevice = messageType.startsWith('D');
  if (!group || !node || rest.length > 0 || (isDevice ? !device : device !== undefined)) {
    const shape = isDevice ? `${SPARKPLUG_B_NAMESPACE}/<group_id>/${messageType}/<edge_node_id>/<device_id>` : `${SPARKPLUG_B_NAMESPACE}/<group_id>/${messageType}/<edge_node_id>`;
    return { reason: `a ${messageType} topic is ${shape}` };
  }
  return isDevice ? { type: messageType, group, node, device: device as string } : { type: messageType, group, node };
}

/** The topic a Rebirth request for an edge node goes to. */
export function nodeCommandTopic(group: string, node: string): string {
  return `${SPARKPLUG_B_NAMESPACE}/${group}/NCMD/${node}`;
}
