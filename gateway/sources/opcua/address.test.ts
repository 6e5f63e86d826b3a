import { describe, expect, it } from 'vitest';
import { browsePathText, nodeIdText, parseBrowsePath, parseNodeId, tagOfBrowsePath } from './address.ts';

describe('parseNodeId', () => {
  it.each([
    ['ns=2;s=Line1.Temp', { namespace: 2, kind: 's', identifier: 'Line1.Temp' }],
    ['i=2258', { namespace: 0, kind: 'i', identifier: '2258' }],
    ['ns=1;i=5', { namespace: 1, kind: 'i', identifier: '5' }],
    ['nsu=urn:plant:a;s=Temp', { namespace: 'urn:plant:a', kind: 's', identifier: 'Temp' }],
    ['ns=3;g=72962b91-fa75-4ae6-8d28-b404dc7daf63', { namespace: 3, kind: 'g', identifier: '72962b91-fa75-4ae6-8d28-b404dc7daf63' }],
    ['ns=4;b=AQID', { namespace: 4, kind: 'b', identifier: 'AQID' }],
    ['ns=2;s=a;b=c', { namespace: 2, kind: 's', identifier: 'a;b=c' }],
  ])('reads %s', (text, expected) => {
    expect(parseNodeId(text)).toEqual(expected);
  });

  it.each([
    ['Line1.Temp', /expected a NodeId/],
    ['ns=2;x=1', /expected a NodeId/],
    ['i=abc', /numeric identifier/],
    ['i=4294967296', /numeric identifier/],
    ['ns=70000;i=1', /above 65535/],
    ['ns=2;g=not-a-guid', /guid identifier/],
    ['ns=2;b=***', /base64/],
  ])('refuses %s', (text, problem) => {
    expect(parseNodeId(text)).toMatch(problem);
  });

  it('writes NodeId text with the namespace index the server uses', () => {
    expect(nodeIdText({ namespace: 'urn:x', kind: 's', identifier: 'T' }, 3)).toBe('ns=3;s=T');
    expect(nodeIdText({ namespace: 0, kind: 'i', identifier: '85' }, 0)).toBe('i=85');
  });
});

describe('browse paths', () => {
  it('reads steps with and without a namespace index', () => {
    expect(parseBrowsePath('/Objects/2:Plant/2:Line1/Temp')).toEqual([
      { namespaceIndex: 0, name: 'Objects' },
      { namespaceIndex: 2, name: 'Plant' },
      { namespaceIndex: 2, name: 'Line1' },
      { namespaceIndex: 0, name: 'Temp' },
    ]);
  });

  it('unescapes &/ and && and writes them back', () => {
    const steps = parseBrowsePath('/Objects/2:a&/b/2:c&&d');
    expect(steps).toEqual([
      { namespaceIndex: 0, name: 'Objects' },
      { namespaceIndex: 2, name: 'a/b' },
      { namespaceIndex: 2, name: 'c&d' },
    ]);
    expect(browsePathText(steps as never)).toBe('/Objects/2:a&/b/2:c&&d');
  });

  it.each([
    ['Objects/2:Plant', /starts at the Root folder/],
    ['/Objects//2:Plant', /empty step/],
    ['/Objects/', /empty step/],
    ['/2:', /has no name/],
    ['/a&b', /escapes only/],
  ])('refuses %s', (text, problem) => {
    expect(parseBrowsePath(text)).toMatch(problem);
  });

  it('makes a tag from the names, without the Objects folder', () => {
    expect(tagOfBrowsePath(parseBrowsePath('/Objects/2:Plant/2:Temp') as never)).toBe('Plant/Temp');
    expect(tagOfBrowsePath(parseBrowsePath('/Types/2:X') as never)).toBe('Types/X');
  });
});
