import type { TagInfo } from '../../types.ts';
import type { ReadingValue } from '../../../../common/reading.ts';
import { DataType, dataTypeName, type ProtoMetric, type ProtoPropertySet, type ProtoPropertyValue } from './proto.ts';
import { decodeMetricValue, isSupportedDatatype, tagTypeOf } from './value.ts';

/**
 * What a BIRTH says about each metric: its name, datatype and tag, and the properties the
 * aggregated OPC UA server can use. Pure.
 */

/** A metric as a BIRTH declared it. Template instances are kept too, to resolve their alias. */
export interface MetricDef {
  /** Metric name; a template member is "<template metric>/<member>". */
  name: string;
  datatype: number;
  tag: string;
  info: TagInfo;
}

/** One metric value to read: a metric, or a member of a template instance, with its full name. */
export interface Leaf {
  name: string;
  metric: ProtoMetric;
}

/** Sparkplug's sequence-number metric in NBIRTH/NDEATH; bookkeeping, not plant data. */
export const BD_SEQ_METRIC = 'bdSeq';
/** Property keys (as Ignition and Tahu use them) the tag declaration reads. */
const PROPERTY_UNIT = 'engUnit';
const PROPERTY_LOW = 'engLow';
const PROPERTY_HIGH = 'engHigh';
const PROPERTY_DESCRIPTION = ['Documentation', 'description', 'Tooltip'];

/**
 * The leaves of a metric: itself, or for a template instance each member (recursively),
 * named "<metric>/<member>". Template definitions (UDT types in an NBIRTH) hold no values
 * and give no leaves.
 */
export function leavesOf(name: string, metric: ProtoMetric, datatype: number): Leaf[] {
  if (datatype !== DataType.Template) return [{ name, metric }];
  const template = metric.templateValue;
  if (!template || template.isDefinition || metric.isNull) return [];
  const leaves: Leaf[] = [];
  for (const member of template.metrics ?? []) {
    if (!member.name) continue;
    leaves.push(...leavesOf(`${name}/${member.name}`, member, member.datatype ?? 0));
  }
  return leaves;
}

/** Why a BIRTH metric cannot be declared, or undefined when it can. */
export function birthMetricProblem(metric: ProtoMetric, index: number): string | undefined {
  if (!metric.name) return `metric #${index} of the BIRTH has no name`;
  if (!metric.datatype) return `metric '${metric.name}' of the BIRTH has no datatype`;
  if (!isSupportedDatatype(metric.datatype)) return `metric '${metric.name}': datatype ${dataTypeName(metric.datatype)} is not supported`;
  return undefined;
}

/** The tag declaration of a metric, from its datatype and its engUnit/engLow/engHigh/Documentation properties. */
export function tagInfoOf(tag: string, datatype: number, properties: ProtoPropertySet | null | undefined): TagInfo {
  const { dataType, isArray } = tagTypeOf(datatype);
  const info: TagInfo = { tag, dataType, ...(isArray ? { isArray } : {}) };
  const unit = property(properties, PROPERTY_UNIT);
  if (typeof unit === 'string' && unit !== '') info.unit = unit;
  const low = property(properties, PROPERTY_LOW);
  const high = property(properties, PROPERTY_HIGH);
  if (typeof low === 'number' && typeof high === 'number' && low <= high) info.euRange = { low, high };
  for (const key of PROPERTY_DESCRIPTION) {
    const text = property(properties, key);
    if (typeof text === 'string' && text !== '') {
      info.description = text;
      break;
    }
  }
  return info;
}

/** Compares two declarations field by field. */
export function sameTagInfo(a: TagInfo, b: TagInfo): boolean {
  return (
    a.tag === b.tag &&
    a.dataType === b.dataType &&
    a.isArray === b.isArray &&
    a.unit === b.unit &&
    a.description === b.description &&
    a.euRange?.low === b.euRange?.low &&
    a.euRange?.high === b.euRange?.high
  );
}

function property(set: ProtoPropertySet | null | undefined, key: string): ReadingValue | undefined {
  const index = set?.keys?.indexOf(key) ?? -1;
  if (index < 0) return undefined;
  const value: ProtoPropertyValue | undefined = set?.values?.[index];
  if (!value || value.isNull) return undefined;
  // A property value has the same value fields as a metric, and its own type.
  const decoded = decodeMetricValue(value as ProtoMetric, value.type ?? 0);
  return 'value' in decoded ? decoded.value : undefined;
}
