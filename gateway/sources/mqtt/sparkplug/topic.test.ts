import { describe, expect, it } from 'vitest';
import { nodeCommandTopic, parseSparkplugTopic } from './topic.ts';
import { shortestFloat32 } from './value.ts';

describe('parseSparkplugTopic', () => {
  it.each([
    ['spBv1.0/G/NBIRTH/E', { type: 'NBIRTH', group: 'G', node: 'E' }],
    ['spBv1.0/G/NDATA/E', { type: 'NDATA', group: 'G', node: 'E' }],
    ['spBv1.0/G/NDEATH/E', { type: 'NDEATH', group: 'G', node: 'E' }],
    ['spBv1.0/G/DBIRTH/E/D', { type: 'DBIRTH', group: 'G', node: 'E', device: 'D' }],
    ['spBv1.0/G/DDATA/E/D', { type: 'DDATA', group: 'G', node: 'E', device: 'D' }],
    ['spBv1.0/G/DDEATH/E/D', { type: 'DDEATH', group: 'G', node: 'E', device: 'D' }],
    ['spBv1.0/G/NCMD/E', { passOver: true }],
    ['spBv1.0/G/DCMD/E/D', { passOver: true }],
    ['spBv1.0/STATE/host', { passOver: true }],
    ['spBv1.0/G/XDATA/E', { reason: "unknown Sparkplug message type 'XDATA'" }],
    ['spBv1.0/G/NDATA/E/D', { reason: 'a NDATA topic is spBv1.0/<group_id>/NDATA/<edge_node_id>' }],
    ['spBv1.0/G/DDATA/E', { reason: 'a DDATA topic is spBv1.0/<group_id>/DDATA/<edge_node_id>/<device_id>' }],
    ['spBv1.0/G/DDATA/E/D/x', { reason: 'a DDATA topic is spBv1.0/<group_id>/DDATA/<edge_node_id>/<device_id>' }],
    ['spAv1.0/G/NDATA/E', { reason: 'not a Sparkplug B topic (it does not start with spBv1.0/)' }],
  ])('reads %s', (topic, expected) => {
    expect(parseSparkplugTopic(topic)).toEqual(expected);
  });

  it('names the command topic of an edge node', () => {
    expect(nodeCommandTopic('G', 'E')).toBe('spBv1.0/G/NCMD/E');
  });
});

describe('shortestFloat32', () => {
  it.each([
    [Math.fround(0.1), 0.1],
    [Math.fround(21.7), 21.7],
    [Math.fround(1e-7), 1e-7],
    [Math.fround(16777217), 16777216],
    [0, 0],
  ])('reads %f as %f', (input, expected) => {
    expect(shortestFloat32(input)).toBe(expected);
  });
});
