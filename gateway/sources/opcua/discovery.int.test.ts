import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpcuaSimulator, type RunningOpcuaSim } from '../../../sim/devices/opcua-sim.ts';
import { logLines, silentLog, startSource, tempPki } from './test-support.ts';

/** The sim's plant: 2 lines x 2 machines, each with Speed, Temperature (an AnalogItem), Running, Status. */
const MACHINES = ['Line1/Machine1', 'Line1/Machine2', 'Line2/Machine1', 'Line2/Machine2'];
const VARIABLES = ['Speed', 'Temperature', 'Running', 'Status'];
const ANALOG_ITEM_TYPE = 'i=2368';

describe('OpcuaSource discovery', () => {
  let sim: RunningOpcuaSim;
  const pki = tempPki();
  const discover = async (name: string, d: Record<string, unknown>, nodes: unknown[] = []) => {
    const { source, ctx } = await startSource(name, {
      endpoint_url: sim.endpointUrl,
      security: { pki_dir: pki.dir },
      read_metadata: false,
      groups: [{ nodes, discover: [{ from: '/Objects/2:Sim/2:Plant', ...d }] }],
    });
    await source.stop();
    return { tags: ctx.tags.map((t) => t.tag), ctx, stats: source.stats() };
  };

  beforeAll(async () => {
    sim = await startOpcuaSimulator({ counters: 0, changeIntervalMs: 0, log: silentLog });
  });
  afterAll(async () => {
    await sim?.stop();
    pki.remove();
  });

  it('finds every variable below a browse path, tagged by the browse names under it', async () => {
    const { tags, ctx } = await discover('all', { max_depth: 3, tag_prefix: 'plant' });
    expect([...tags].sort()).toEqual(MACHINES.flatMap((m) => VARIABLES.map((v) => `plant/${m}/${v}`)).sort());
    expect(logLines(ctx, 'Discovered variables.')[0]).toMatchObject({ from: '/Objects/2:Sim/2:Plant', variables: 16 });
  });

  it('stops at the depth limit', async () => {
    expect((await discover('shallow', { max_depth: 2 })).tags).toEqual([]);
  });

  it('takes only variables of a VariableType or of a builtin DataType', async () => {
    const analog = await discover('analog', { max_depth: 3, type_definitions: [ANALOG_ITEM_TYPE] });
    expect(analog.tags).toEqual(MACHINES.map((m) => `${m}/Temperature`));
    const booleans = await discover('booleans', { max_depth: 3, data_types: ['Boolean', 'String'] });
    expect(booleans.tags).toEqual(MACHINES.flatMap((m) => [`${m}/Running`, `${m}/Status`]));
  });

  it('walks into properties only when asked', async () => {
    const { tags } = await discover('props', { max_depth: 4, type_definitions: ['i=68'], include_properties: true });
    expect(tags).toEqual(expect.arrayContaining(MACHINES.flatMap((m) => [`${m}/Temperature/EURange`, `${m}/Temperature/EngineeringUnits`])));
  });

  it('caps what it takes and names what it left out', async () => {
    const { tags, ctx, stats } = await discover('capped', { max_depth: 3, max_variables: 3 });
    expect(tags).toEqual(['Line1/Machine1/Speed', 'Line1/Machine1/Temperature', 'Line1/Machine1/Running']);
    expect(stats).toMatchObject({ nodes: 3, monitored: 3 });
    const [warning] = logLines(ctx, 'Discovery found more variables than max_variables; the rest are not read. Raise max_variables or narrow the discovery to read them.');
    expect(warning).toMatchObject({ level: 'warn', taken: 3, leftOut: 13 });
    expect(String(warning?.leftOutNodes)).toMatch(/^\/Objects\/2:Sim\/2:Plant\/2:Line1\/2:Machine1\/2:Status, \/Objects\/2:Sim\/2:Plant\/2:Line1\/2:Machine2\/2:Speed, /);
  });

  it('resolves browse paths and namespace URIs, and reads a node named twice once', async () => {
    const { tags, stats, ctx } = await discover('paths', { max_depth: 3, type_definitions: [ANALOG_ITEM_TYPE] }, [
      { browse_path: '/Objects/2:Sim/2:Plant/2:Line1/2:Machine1/2:Speed' },
      { node_id: `nsu=${sim.namespaceUri};s=Plant.Line1.Machine1.Temperature`, tag: 'm1-temperature' },
    ]);
    expect(tags).toEqual(['Sim/Plant/Line1/Machine1/Speed', 'm1-temperature', 'Line1/Machine2/Temperature', 'Line2/Machine1/Temperature', 'Line2/Machine2/Temperature']);
    expect(stats.nodes).toBe(5);
    expect(logLines(ctx, 'Nodes named more than once are read once, with the settings of their first mention.')[0]).toMatchObject({
      nodes: `ns=${sim.namespaceIndex};s=Plant.Line1.Machine1.Temperature`,
    });
  });
});
