import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, makeClientCertificate, writePemFiles, type Pem } from '../../../test/helpers/tls.ts';
import { mqttConfigSchema } from './config.ts';
import { clientOptions, MqttTlsConfigError } from './connection.ts';

const PASSPHRASE = 'correct horse';
let dir: string;
let files: Record<'ca' | 'cert' | 'key' | 'encryptedCert' | 'encryptedKey' | 'otherKey' | 'notPem', string>;
let ca: Pem;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-tls-'));
  const pki = makeCertificates();
  ca = pki.ca;
  const client = makeClientCertificate(ca);
  const encrypted = makeClientCertificate(ca, { passphrase: PASSPHRASE });
  files = await writePemFiles(dir, {
    ca: ca.cert,
    cert: client.cert,
    key: client.key,
    encryptedCert: encrypted.cert,
    encryptedKey: encrypted.key,
    otherKey: pki.server.key,
    notPem: 'hello',
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (input: Record<string, unknown>) => mqttConfigSchema.parse({ subscriptions: [{ topic: '#' }], ...input });

describe('clientOptions', () => {
  it('maps the session, protocol and credentials, with backoff left to the pacer', async () => {
    const options = await clientOptions(config({ url: 'mqtt://h', protocol_version: 5, clean: false, client_id: 'c', username: 'u', password: 'p' }), 'c', 750);
    expect(options).toMatchObject({
      clientId: 'c',
      protocolVersion: 5,
      clean: false,
      keepalive: 30,
      reconnectPeriod: 750,
      reconnectOnConnackError: true,
      resubscribe: false,
      username: 'u',
      password: 'p',
      properties: { sessionExpiryInterval: 86_400 },
    });
  });

  it('reads the CA, the client certificate and its encrypted key for mqtts', async () => {
    const options = await clientOptions(
      config({ url: 'mqtts://h', tls: { ca_file: files.ca, cert_file: files.encryptedCert, key_file: files.encryptedKey, key_passphrase: PASSPHRASE, servername: 'broker' } }),
      'c',
      1000,
    );
    expect(options).toMatchObject({ ca: ca.cert, cert: expect.stringContaining('BEGIN CERTIFICATE'), passphrase: PASSPHRASE, servername: 'broker', rejectUnauthorized: true });
  });

  it('puts the TLS settings in the WebSocket options for wss', async () => {
    const options = await clientOptions(config({ url: 'wss://h/mqtt', tls: { ca_file: files.ca, verify_server: false } }), 'c', 1000);
    expect(options.wsOptions).toEqual({ ca: ca.cert, rejectUnauthorized: false });
    expect(options).not.toHaveProperty('ca');
  });

  it('verifies the server by default on mqtts without a tls block', async () => {
    expect(await clientOptions(config({ url: 'mqtts://h' }), 'c', 1000)).toMatchObject({ rejectUnauthorized: true });
  });

  it.each([
    ['a missing CA file', () => ({ ca_file: join(dir, 'nope.pem') }), /^tls\.ca_file .*nope\.pem cannot be read: ENOENT$/],
    ['a CA file without a certificate', () => ({ ca_file: files.notPem }), /^tls\.ca_file .* holds no PEM certificate$/],
    ['a key file without a key', () => ({ cert_file: files.cert, key_file: files.ca }), /^tls\.key_file .* holds no PEM private key$/],
    ['an encrypted key without its passphrase', () => ({ cert_file: files.encryptedCert, key_file: files.encryptedKey }), /cannot be decrypted or read \(it is encrypted: set tls\.key_passphrase\)$/],
    ['a wrong passphrase', () => ({ cert_file: files.encryptedCert, key_file: files.encryptedKey, key_passphrase: 'wrong' }), /cannot be decrypted or read \(check tls\.key_passphrase\)$/],
    ['a key of another certificate', () => ({ cert_file: files.cert, key_file: files.otherKey }), /does not match tls\.cert_file/],
  ])('refuses %s with the key path named', async (_name, tls, message) => {
    const attempt = clientOptions(config({ url: 'mqtts://h', tls: tls() }), 'c', 1000);
    await expect(attempt).rejects.toThrow(MqttTlsConfigError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('never puts the passphrase in an error', async () => {
    const error = await clientOptions(config({ url: 'mqtts://h', tls: { cert_file: files.encryptedCert, key_file: files.encryptedKey, key_passphrase: 'my-secret-pass' } }), 'c', 1000).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(MqttTlsConfigError);
    expect(String((error as Error).message)).not.toContain('my-secret-pass');
  });
});
