import { BrowseDirection, DataType, NodeClassMask, resolveNodeId, type ClientSession } from 'node-opcua-client';
import type { TagDataType } from '../types.ts';
import { browseAll } from './ua.ts';

const HAS_SUBTYPE = 'i=45';
/** ns=0 DataType ids 1-25 are the builtin types themselves. */
const LAST_BUILTIN_ID = 25;
const ENUMERATION_ID = 29;
/** Abstract types (BaseDataType, Number, Integer, UInteger) say nothing about the value's encoding. */
const ABSTRACT_IDS = new Set([24, 26, 27, 28]);
/** Supertype steps before a DataType is given up on as unknown. */
const MAX_SUPERTYPE_STEPS = 16;

const TAG_DATA_TYPES = new Set<string>(['Boolean', 'SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float', 'Double', 'String', 'DateTime']);

/** The TagInfo name of a builtin DataType code, when TagInfo has one. */
export function tagDataTypeOf(code: number): TagDataType | undefined {
  const name = DataType[code];
  return name !== undefined && TAG_DATA_TYPES.has(name) ? (name as TagDataType) : undefined;
}

/** A builtin code straight from a ns=0 DataType NodeId, or undefined when it must be looked up. */
export function builtinOfStandardId(nodeIdText: string): number | undefined {
  const m = /^(?:ns=0;)?i=(\d+)$/.exec(nodeIdText);
  if (!m) return undefined;
  const id = Number(m[1]);
  if (ABSTRACT_IDS.has(id)) return DataType.Null;
  if (id === ENUMERATION_ID) return DataType.Int32;
  if (id >= 1 && id <= LAST_BUILTIN_ID) return id;
  return undefined;
}

/**
 * Maps DataType NodeIds to the builtin type that encodes their values, walking HasSubtype
 * upwards for derived types (Duration is a Double, an enumeration an Int32). Keeps what it
 * learnt for the life of a session; a few distinct DataTypes serve thousands of nodes.
 */
export class DataTypeResolver {
  readonly #known = new Map<string, number>();
  readonly #session: ClientSession;
  readonly #browseChunk: number;

  constructor(session: ClientSession, browseChunk: number) {
    this.#session = session;
    this.#browseChunk = browseChunk;
  }

  /** Resolves every id given ('' for "unreadable"), in a few batched Browse calls; returns codes in input order (0 unknown). */
  async resolve(ids: string[]): Promise<number[]> {
    const unknown = new Set<string>();
    for (const id of ids) if (id !== '' && !this.#known.has(id) && builtinOfStandardId(id) === undefined) unknown.add(id);
    // Each unknown id climbs its supertype chain; all chains climb together, one Browse per step.
    let climbing = [...unknown].map((id) => ({ origin: id, at: id }));
    for (let step = 0; climbing.length > 0 && step < MAX_SUPERTYPE_STEPS; step++) {
      const results = await browseAll(
        this.#session,
        climbing.map((c) => ({
          nodeId: resolveNodeId(c.at),
          browseDirection: BrowseDirection.Inverse,
          referenceTypeId: resolveNodeId(HAS_SUBTYPE),
          includeSubtypes: false,
          nodeClassMask: NodeClassMask.DataType,
          resultMask: 0,
        })),
        this.#browseChunk,
      );
      const next: typeof climbing = [];
      climbing.forEach((c, i) => {
        const parent = results[i]?.references[0]?.nodeId.toString();
        if (!parent) return this.#known.set(c.origin, DataType.Null);
        const code = builtinOfStandardId(parent) ?? this.#known.get(parent);
        if (code !== undefined) this.#known.set(c.origin, code);
        else next.push({ origin: c.origin, at: parent });
      });
      climbing = next;
    }
    for (const c of climbing) this.#known.set(c.origin, DataType.Null);
    return ids.map((id) => builtinOfStandardId(id) ?? this.#known.get(id) ?? DataType.Null);
  }
}
