import { AddressSpace, generateAddressSpace, nodesets, StatusCodes, type BaseNode, type Namespace, type UAObject } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindOf } from './datatype.ts';
import { addTagVariable } from './variables.ts';

/**
 * One tag variable on the standard nodeset: what node-opcua keeps per variable. The server's
 * memory at 50,000 variables depends on the lookup memo being dropped, so the test reads it
 * where node-opcua keeps it; if a node-opcua release moves it, this test says so.
 */
let addressSpace: AddressSpace;
let namespace: Namespace;
let folder: UAObject;

const memoOf = (node: BaseNode): unknown => {
  const symbol = Object.getOwnPropertySymbols(node).find((s) => s.description === 'BaseNodePrivate');
  if (!symbol) throw new Error('node-opcua no longer keeps a BaseNodePrivate on its nodes: check dropLookupMemo in variables.ts');
  return (node as unknown as Record<symbol, { _cache?: unknown }>)[symbol]?._cache;
};

beforeAll(async () => {
  addressSpace = AddressSpace.create();
  await generateAddressSpace(addressSpace, [nodesets.standard]);
  addressSpace.isFrugal = true;
  namespace = addressSpace.registerNamespace('urn:test:variables');
  folder = namespace.addFolder(addressSpace.rootFolder.objects, { browseName: 'plc1' });
});

afterAll(() => addressSpace?.dispose());

describe('addTagVariable', () => {
  it('leaves no lookup memo behind, and the variable still answers its type and references', () => {
    const variable = addTagVariable(namespace, { parent: folder, nodeId: 'plc1/temp', browseName: 'temp', kind: kindOf('Double', false), writable: false });
    expect(memoOf(variable)).toBeUndefined();
    expect(variable.typeDefinitionObj.browseName.name).toBe('BaseDataVariableType');
    expect(variable.findReferencesAsObject('Organizes', false).map((n) => n.nodeId.toString())).toEqual([folder.nodeId.toString()]);
    expect(variable.readValue().statusCode).toBe(StatusCodes.BadWaitingForInitialData);
  });

  it('drops the memo of a variable with a unit and of its EngineeringUnits property', () => {
    const variable = addTagVariable(namespace, {
      parent: folder,
      nodeId: 'plc1/flow',
      browseName: 'flow',
      kind: kindOf('Double', false),
      info: { tag: 'flow', unit: 'm³/h' },
      writable: false,
    });
    expect(memoOf(variable)).toBeUndefined();
    const units = variable.getPropertyByName('EngineeringUnits');
    expect(units).not.toBeNull();
    expect(memoOf(units!)).toBeUndefined();
    expect(variable.typeDefinitionObj.browseName.name).toBe('BaseAnalogType');
  });

  it('shares one frozen kind per type and shape', () => {
    expect(kindOf('Double', false)).toBe(kindOf('Double', false));
    expect(kindOf('Double', true)).not.toBe(kindOf('Double', false));
    expect(Object.isFrozen(kindOf('Int32', false))).toBe(true);
  });
});
