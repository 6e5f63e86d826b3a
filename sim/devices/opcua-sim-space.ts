import {
  DataType,
  DataValue,
  StatusCodes,
  Variant,
  type StatusCode,
  VariantArrayType,
  standardUnits,
  type Namespace,
  type UAObject,
  type UAVariable,
} from 'node-opcua';

/**
 * The simulator's address space under Objects/Sim, built in the server's own namespace.
 * Every changing value is read through a getter from one shared tick counter, so a change
 * costs nothing per node and a client can check it saw every tick (counters without gaps).
 */
export const SIM_ROOT = 'Sim';
/** Types a counter node can carry; each shows the tick number (Boolean: its parity). */
export const COUNTER_TYPES = ['Double', 'Float', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Byte', 'SByte'] as const;
export type CounterType = (typeof COUNTER_TYPES)[number];
/** Below this, a node-opcua server turns a requested sampling interval of 0 into exception-based monitoring, which getters never trigger. */
const GETTER_MIN_SAMPLING_MS = 50;
const COUNTER_ID_DIGITS = 5;
const READ_WRITE = 'CurrentRead | CurrentWrite';
const READ_ONLY = 'CurrentRead';
/** Exact Int64/UInt64 values beyond 2^53, for precision tests: [high, low] words. */
export const BIG_INT64 = { text: '1152921504606846977', words: [0x10000000, 1] as [number, number] };
export const BIG_UINT64 = { text: '18446744073709551615', words: [0xffffffff, 0xffffffff] as [number, number] };
export const TEMPERATURE_RANGE = { low: -50, high: 150 };

/** Static values of Sim/Types, by browse name; the integration tests compare against them. */
export const TYPE_VALUES: ReadonlyArray<{ name: string; dataType: DataType; value: unknown; array?: boolean }> = [
  { name: 'Boolean', dataType: DataType.Boolean, value: true },
  { name: 'SByte', dataType: DataType.SByte, value: -12 },
  { name: 'Byte', dataType: DataType.Byte, value: 200 },
  { name: 'Int16', dataType: DataType.Int16, value: -30000 },
  { name: 'UInt16', dataType: DataType.UInt16, value: 60000 },
  { name: 'Int32', dataType: DataType.Int32, value: -2000000000 },
  { name: 'UInt32', dataType: DataType.UInt32, value: 4000000000 },
  { name: 'Int64', dataType: DataType.Int64, value: [0, 42] },
  { name: 'UInt64', dataType: DataType.UInt64, value: [0, 43] },
  { name: 'BigInt64', dataType: DataType.Int64, value: BIG_INT64.words },
  { name: 'BigUInt64', dataType: DataType.UInt64, value: BIG_UINT64.words },
  { name: 'Float', dataType: DataType.Float, value: 21.5 },
  { name: 'Double', dataType: DataType.Double, value: 3.141592653589793 },
  { name: 'String', dataType: DataType.String, value: 'hello' },
  { name: 'DateTime', dataType: DataType.DateTime, value: new Date('2024-05-01T12:00:00.123Z') },
  { name: 'ByteString', dataType: DataType.ByteString, value: Buffer.from([1, 2, 3]) },
  { name: 'DoubleArray', dataType: DataType.Double, value: [1.5, 2.5, 3.5], array: true },
  { name: 'Int32Array', dataType: DataType.Int32, value: [1, -2, 3], array: true },
  { name: 'BooleanArray', dataType: DataType.Boolean, value: [true, false], array: true },
  { name: 'StringArray', dataType: DataType.String, value: ['a', 'b'], array: true },
  { name: 'Int64Array', dataType: DataType.Int64, value: [[0, 7], BIG_INT64.words], array: true },
];

export interface SpaceOptions {
  counters: number;
  counterType: CounterType;
  lines: number;
  machinesPerLine: number;
  /** The current tick and the time it started; read by every getter. */
  clock: { tick: number; at: Date };
}

export interface BuiltSpace {
  counterNodeIds: string[];
}

export function buildSimSpace(ns: Namespace, o: SpaceOptions): BuiltSpace {
  const addressSpace = ns.addressSpace;
  const root = ns.addFolder(addressSpace.rootFolder.objects, { browseName: SIM_ROOT, nodeId: `s=${SIM_ROOT}` });
  const counterNodeIds = addCounters(ns, root, o);
  addTypes(ns, root);
  addQuality(ns, root);
  addAnalog(ns, root, o.clock);
  addPlant(ns, root, o);
  addWritable(ns, root);
  return { counterNodeIds };
}

/** A getter value that reads the tick, with the tick's start as source timestamp. */
function ticking(clock: SpaceOptions['clock'], dataType: DataType, value: (tick: number) => unknown) {
  return {
    timestamped_get: () =>
      new DataValue({ value: new Variant({ dataType, arrayType: VariantArrayType.Scalar, value: value(clock.tick) }), sourceTimestamp: clock.at, statusCode: StatusCodes.Good }),
  };
}

function counterValue(type: CounterType, tick: number): unknown {
  if (type === 'Int64' || type === 'UInt64') return [0, tick];
  if (type === 'Byte') return tick % 256;
  if (type === 'SByte') return (tick % 256) - 128;
  if (type === 'Int16') return (tick % 65536) - 32768;
  if (type === 'UInt16') return tick % 65536;
  return tick;
}

function addCounters(ns: Namespace, root: UAObject, o: SpaceOptions): string[] {
  const folder = ns.addFolder(root, { browseName: 'Counters', nodeId: 's=Counters' });
  const dataType = DataType[o.counterType];
  const ids: string[] = [];
  for (let i = 0; i < o.counters; i++) {
    const name = `C${String(i).padStart(COUNTER_ID_DIGITS, '0')}`;
    const variable = ns.addVariable({
      componentOf: folder,
      browseName: name,
      nodeId: `s=Counters.${name}`,
      dataType: o.counterType,
      minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
      value: ticking(o.clock, dataType, (tick) => counterValue(o.counterType, tick)),
    });
    ids.push(variable.nodeId.toString());
  }
  return ids;
}

function addTypes(ns: Namespace, root: UAObject): void {
  const folder = ns.addFolder(root, { browseName: 'Types', nodeId: 's=Types' });
  for (const t of TYPE_VALUES) {
    ns.addVariable({
      componentOf: folder,
      browseName: t.name,
      nodeId: `s=Types.${t.name}`,
      dataType: DataType[t.dataType],
      valueRank: t.array ? 1 : -1,
      value: new Variant({ dataType: t.dataType, arrayType: t.array ? VariantArrayType.Array : VariantArrayType.Scalar, value: t.value }),
    });
  }
}

function addQuality(ns: Namespace, root: UAObject): void {
  const folder = ns.addFolder(root, { browseName: 'Quality', nodeId: 's=Quality' });
  const fixed = (name: string, statusCode: StatusCode, value: number | null) =>
    ns.addVariable({
      componentOf: folder,
      browseName: name,
      nodeId: `s=Quality.${name}`,
      dataType: 'Double',
      minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
      value: {
        timestamped_get: () =>
          new DataValue({
            value: value === null ? new Variant({ dataType: DataType.Null }) : new Variant({ dataType: DataType.Double, value }),
            statusCode,
            sourceTimestamp: new Date('2024-05-01T00:00:00Z'),
          }),
      },
    });
  fixed('Bad', StatusCodes.BadSensorFailure, null);
  fixed('Uncertain', StatusCodes.UncertainLastUsableValue, 1.5);
  fixed('Good', StatusCodes.Good, 2.5);
}

function addAnalog(ns: Namespace, root: UAObject, clock: SpaceOptions['clock']): void {
  const folder = ns.addFolder(root, { browseName: 'Analog', nodeId: 's=Analog' });
  ns.addAnalogDataItem({
    componentOf: folder,
    browseName: 'Temperature',
    nodeId: 's=Analog.Temperature',
    dataType: 'Double',
    engineeringUnitsRange: TEMPERATURE_RANGE,
    engineeringUnits: standardUnits.degree_celsius,
    minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
    value: ticking(clock, DataType.Double, (tick) => 20 + (tick % 10)),
  });
  // A String that changes every tick: a deadband on it is refused (BadFilterNotAllowed).
  ns.addVariable({
    componentOf: folder,
    browseName: 'State',
    nodeId: 's=Analog.State',
    dataType: 'String',
    minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
    value: ticking(clock, DataType.String, (tick) => `state-${tick}`),
  });
}

function addPlant(ns: Namespace, root: UAObject, o: SpaceOptions): void {
  const plant = ns.addFolder(root, { browseName: 'Plant', nodeId: 's=Plant' });
  for (let l = 1; l <= o.lines; l++) {
    const line = ns.addObject({ organizedBy: plant, browseName: `Line${l}`, nodeId: `s=Plant.Line${l}` });
    for (let m = 1; m <= o.machinesPerLine; m++) {
      const id = `Plant.Line${l}.Machine${m}`;
      const machine = ns.addObject({ componentOf: line, browseName: `Machine${m}`, nodeId: `s=${id}` });
      const offset = l * 100 + m;
      ns.addVariable({
        componentOf: machine,
        browseName: 'Speed',
        nodeId: `s=${id}.Speed`,
        dataType: 'Double',
        minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
        value: ticking(o.clock, DataType.Double, (tick) => 1000 + offset + tick),
      });
      ns.addAnalogDataItem({
        componentOf: machine,
        browseName: 'Temperature',
        nodeId: `s=${id}.Temperature`,
        dataType: 'Double',
        engineeringUnitsRange: TEMPERATURE_RANGE,
        engineeringUnits: standardUnits.degree_celsius,
        minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
        value: ticking(o.clock, DataType.Double, (tick) => 40 + ((offset + tick) % 20)),
      });
      ns.addVariable({
        componentOf: machine,
        browseName: 'Running',
        nodeId: `s=${id}.Running`,
        dataType: 'Boolean',
        minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
        value: ticking(o.clock, DataType.Boolean, (tick) => (tick + offset) % 2 === 0),
      });
      ns.addVariable({
        componentOf: machine,
        browseName: 'Status',
        nodeId: `s=${id}.Status`,
        dataType: 'String',
        minimumSamplingInterval: GETTER_MIN_SAMPLING_MS,
        value: ticking(o.clock, DataType.String, (tick) => ((tick + offset) % 3 === 0 ? 'idle' : 'running')),
      });
    }
  }
}

function addWritable(ns: Namespace, root: UAObject): UAVariable[] {
  const folder = ns.addFolder(root, { browseName: 'Writable', nodeId: 's=Writable' });
  const rw = (name: string, dataType: DataType, value: unknown, writable = true) =>
    ns.addVariable({
      componentOf: folder,
      browseName: name,
      nodeId: `s=Writable.${name}`,
      dataType: DataType[dataType],
      accessLevel: writable ? READ_WRITE : READ_ONLY,
      userAccessLevel: writable ? READ_WRITE : READ_ONLY,
      value: new Variant({ dataType, arrayType: VariantArrayType.Scalar, value }),
    });
  return [
    rw('Setpoint', DataType.Double, 50),
    rw('Level', DataType.Int16, 0),
    rw('Mode', DataType.String, 'auto'),
    rw('Enable', DataType.Boolean, false),
    rw('Count', DataType.Int64, [0, 0]),
    rw('ReadOnly', DataType.Double, 1, false),
  ];
}
