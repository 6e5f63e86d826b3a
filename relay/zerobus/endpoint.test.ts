import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootCertificates } from 'node:tls';
import { channelCredentials, parseEndpoint, readCaFile, tlsFailureHint, trustedRoots } from './endpoint.ts';

describe('parseEndpoint', () => {
  it.each([
    ['https://1234567890123456.zerobus.us-west-2.cloud.databricks.com', '1234567890123456.zerobus.us-west-2.cloud.databricks.com:443', '1234567890123456'],
    ['1234567890123456.zerobus.westeurope.azuredatabricks.net', '1234567890123456.zerobus.westeurope.azuredatabricks.net:443', '1234567890123456'],
    ['127.0.0.1:50051', '127.0.0.1:50051', undefined],
    ['grpc://localhost:9000', 'localhost:9000', undefined],
  ])('%s connects to %s with workspace id %s', (endpoint, address, workspaceId) => {
    const parsed = parseEndpoint(endpoint);
    expect(parsed.address).toBe(address);
    expect(parsed.workspaceIdFromHost).toBe(workspaceId);
  });
});

describe('tlsFailureHint', () => {
  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', undefined, "set zerobus.ca_file to the proxy's CA certificate"],
    ['SELF_SIGNED_CERT_IN_CHAIN', undefined, "set zerobus.ca_file to the proxy's CA certificate"],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', '/etc/ca.pem', 'nor by zerobus.ca_file /etc/ca.pem'],
    ['CERT_HAS_EXPIRED', undefined, "check this machine's clock"],
    ['CERT_NOT_YET_VALID', undefined, "check this machine's clock"],
    ['ERR_TLS_CERT_ALTNAME_INVALID', undefined, 'not for zb.example.com; check zerobus.endpoint'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', undefined, 'speaks TLS on that port'],
    [undefined, undefined, 'what sits between this machine and zb.example.com'],
  ])('%s (ca_file %s) tells the operator to check: %s', (code, caFile, hint) => {
    expect(tlsFailureHint(code, 'zb.example.com', caFile)).toContain(hint);
  });
});

describe('ca_file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ca-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused at start-up, naming the file, when it cannot be read', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => channelCredentials({ insecure: false, caFile: missing })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', retryable: false }));
    expect(() => readCaFile(missing)).toThrow(`zerobus.ca_file ${missing} cannot be read: ENOENT`);
  });

  it('is refused when it holds no PEM certificate', async () => {
    const path = join(dir, 'key.pem');
    await writeFile(path, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    expect(() => readCaFile(path)).toThrow(`zerobus.ca_file ${path} holds no PEM certificate`);
  });

  const CERT = (name: string) => `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`;

  it('is added to the roots grpc-js uses when GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names a bundle', async () => {
    const bundle = join(dir, 'bundle.pem');
    const extra = join(dir, 'proxy-ca.pem');
    await writeFile(bundle, CERT('bundle'));
    await writeFile(extra, CERT('proxy'));
    expect(trustedRoots(extra, { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: bundle, NODE_EXTRA_CA_CERTS: extra })).toEqual([CERT('bundle'), CERT('proxy')]);
  });

  it("is added to Node.js's bundled roots and NODE_EXTRA_CA_CERTS otherwise", async () => {
    const node = join(dir, 'node-extra.pem');
    const extra = join(dir, 'proxy-ca2.pem');
    await writeFile(node, CERT('node-extra'));
    await writeFile(extra, CERT('proxy'));
    expect(trustedRoots(extra, { NODE_EXTRA_CA_CERTS: node })).toEqual([...rootCertificates, CERT('node-extra'), CERT('proxy')]);
    expect(trustedRoots(extra, {})).toEqual([...rootCertificates, CERT('proxy')]);
  });
});
