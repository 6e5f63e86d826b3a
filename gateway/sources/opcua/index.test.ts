import { describe, expect, it } from 'vitest';
import { recordingContext } from '../../test-support/context.ts';
import { SourceWriteError, type Pausable } from '../types.ts';
import { opcua } from './index.ts';
import { tempPki } from './test-support.ts';

const config = opcua.configSchema.parse({ endpoint_url: 'opc.tcp://127.0.0.1:1', groups: [{ nodes: [{ node_id: 'i=2258' }] }] });

describe('the opcua plugin spec', () => {
  it('creates a source that says it is connecting before it starts, and stopped after stop', async () => {
    const source = opcua.create('s', config);
    expect(source.status()).toEqual({ state: 'connecting' });
    await source.stop();
    await source.stop();
    expect(source.status()).toEqual({ state: 'stopped' });
  });

  it('refuses a write before it has started, as a device error', async () => {
    const source = opcua.create('s', config);
    const err = await source.write?.('x', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceWriteError);
    expect(err).toMatchObject({ reason: 'device', message: 'cannot write x: the OPC UA source has not started' });
  });
});

describe('pause before start', () => {
  it('hands a pause asked for before start on to the driver', async () => {
    const pki = tempPki();
    try {
      const source = opcua.create('s', { ...config, security: { ...config.security, pki_dir: pki.dir } }) as ReturnType<typeof opcua.create> & Pausable;
      expect(source.pause()).toBe(true);
      await source.start(recordingContext());
      expect(source.status().details).toMatchObject({ paused: true });
      source.resume();
      expect(source.status().details).toMatchObject({ paused: false });
      await source.stop();
    } finally {
      pki.remove();
    }
  });
});
