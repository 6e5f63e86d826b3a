import { DataType, StatusCodes, Variant, type Namespace, type UAObject, type UAVariable } from 'node-opcua';
import type { TagInfo } from '../gateway/sources/types.ts';
import { isNumericType, type VariableKind } from './datatype.ts';
import { engineeringUnits } from './units.ts';

/**
 * Creating one tag variable: its DataType, ValueRank, access level, and for numeric tags with a
 * known unit or range the AnalogItem shape (EURange, EngineeringUnits). Nothing per variable but
 * the node itself: no closures, no bound getters; values are pushed in by the tree.
 */
export interface TagVariableSpec {
  parent: UAObject;
  /** The string NodeId, "<source>/<tag>". */
  nodeId: string;
  browseName: string;
  kind: VariableKind;
  info?: TagInfo;
  writable: boolean;
}

const READ_ONLY = 'CurrentRead';
const READ_WRITE = 'CurrentRead | CurrentWrite';
/** ValueRank of a one-dimensional array and of a scalar (OPC UA Part 3). */
const ONE_DIMENSION = 1;
const SCALAR = -1;

export function addTagVariable(namespace: Namespace, spec: TagVariableSpec): UAVariable {
  const { kind, info } = spec;
  const access = spec.writable ? READ_WRITE : READ_ONLY;
  const options = {
    organizedBy: spec.parent,
    nodeId: `s=${spec.nodeId}`,
    browseName: spec.browseName,
    ...(info?.description ? { description: info.description } : {}),
    dataType: kind.type,
    valueRank: kind.isArray ? ONE_DIMENSION : SCALAR,
    ...(kind.isArray ? { arrayDimensions: [0] } : {}),
    accessLevel: access,
    userAccessLevel: access,
    // 0: the value is pushed on change, so a subscription asking for 0 gets every change.
    minimumSamplingInterval: 0,
  } as const;
  let variable: UAVariable;
  const numeric = isNumericType(kind.type);
  if (numeric && info?.euRange) {
    variable = namespace.addAnalogDataItem({
      ...options,
      engineeringUnitsRange: info.euRange,
      ...(info.unit ? { engineeringUnits: engineeringUnits(info.unit) } : {}),
    });
  } else if (numeric && info?.unit) {
    variable = namespace.addVariable({ ...options, typeDefinition: 'BaseAnalogType' });
    const units = namespace.addVariable({
      propertyOf: variable,
      browseName: { name: 'EngineeringUnits', namespaceIndex: 0 },
      typeDefinition: 'PropertyType',
      dataType: 'EUInformation',
      minimumSamplingInterval: 0,
      value: { dataType: DataType.ExtensionObject, value: engineeringUnits(info.unit) },
    });
    dropLookupMemo(units);
  } else {
    variable = namespace.addVariable(options);
  }
  variable.setValueFromSource(new Variant({ dataType: DataType.Null }), StatusCodes.BadWaitingForInitialData);
  dropLookupMemo(variable);
  return variable;
}

/**
 * Creating a variable leaves node-opcua's memo of its reference lookups filled: a Map, a key
 * string and a result array per node, about 470 bytes, 23 MB at 50,000 variables. Nothing in
 * serving values or subscriptions reads it again; a browse that reaches the variable refills it
 * for that variable. It is node-opcua's own cache reset (what it does itself whenever a
 * reference changes), so dropping it changes no behaviour. Guarded: should a node-opcua release
 * drop the method, variables keep the memo rather than fail.
 */
function dropLookupMemo(node: UAVariable): void {
  const resettable = node as unknown as { _clear_caches?: () => void };
  if (typeof resettable._clear_caches === 'function') resettable._clear_caches();
}

/** What a re-declaration must match for the existing variable to be kept as it is. */
export function variableSignature(kind: VariableKind, info: TagInfo | undefined, writable: boolean): string {
  return JSON.stringify([kind.type, kind.isArray, info?.unit ?? null, info?.euRange ?? null, info?.description ?? null, writable]);
}
