import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeIds, MessageSecurityMode, OPCUACertificateManager, SecurityPolicy, UserTokenType } from 'node-opcua';
import { until } from '../test/helpers/wait.ts';
import { connect, createClient, makeClientPki, reading, startTestServer, trustClient, type ClientPki, type TestServer } from './test-support.ts';

/**
 * Default security: Sign and SignAndEncrypt only, no anonymous login, users from config,
 * client certificates checked against the PKI, and the server's own certificate kept valid.
 */
const PASSWORD = 'correct horse battery staple';
const alice = { type: UserTokenType.UserName, userName: 'alice', password: PASSWORD } as const;
const EXPIRING_VALIDITY_DAYS = 10;

let t: TestServer;
let clientDir: string;
let trusted: ClientPki;
let stranger: ClientPki;

/** Before the server starts: an own certificate 10 days from expiry, and one trusted client. */
async function preparePki(pkiDir: string): Promise<void> {
  const cm = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false });
  await cm.initialize();
  await cm.createSelfSignedCertificate({
    applicationUri: 'urn:test:iot-connector:server',
    subject: '/CN=expiring test server',
    dns: ['localhost'],
    ip: ['127.0.0.1'],
    startDate: new Date(),
    validity: EXPIRING_VALIDITY_DAYS,
    outputFile: join(cm.rootDir, 'own', 'certs', 'certificate.pem'),
  });
  await cm.dispose();
  await trustClient(pkiDir, trusted, 'trusted');
}

beforeAll(async () => {
  clientDir = await mkdtemp(join(tmpdir(), 'opcua-client-test-'));
  trusted = await makeClientPki(clientDir, 'trusted');
  stranger = await makeClientPki(clientDir, 'stranger');
  t = await startTestServer({ application_uri: 'urn:test:iot-connector:server', users: [{ username: 'alice', password: PASSWORD }] }, preparePki);
  t.events.emit('tags', 'plc1', [{ tag: 'temp', dataType: 'Double' }]);
  t.events.emit('reading', reading('plc1', 'temp', 20.5));
});

afterAll(async () => {
  await t?.close();
  await rm(clientDir, { recursive: true, force: true });
});

const secure = (pki: ClientPki, securityPolicy = SecurityPolicy.Basic256Sha256) => ({ pki, securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy });

describe('endpoints and logins', () => {
  it('offers Sign and SignAndEncrypt with the three policies, and no None endpoint, by default', async () => {
    const client = createClient({ pki: trusted });
    await client.connect(t.server.endpointUrl);
    const endpoints = await client.getEndpoints();
    await client.disconnect();
    const offered = endpoints.map((e) => `${MessageSecurityMode[e.securityMode]} ${(e.securityPolicyUri ?? '').split('#')[1]}`).sort();
    expect(offered).toEqual(
      ['Sign', 'SignAndEncrypt'].flatMap((mode) => ['Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss', 'Basic256Sha256'].map((p) => `${mode} ${p}`)).sort(),
    );
    expect(endpoints.flatMap((e) => e.userIdentityTokens!.map((u) => UserTokenType[u.tokenType]))).not.toContain('Anonymous');
  });

  it.each([SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss])(
    'connects with SignAndEncrypt, %s, and a user name and password',
    async (policy) => {
      const c = await connect(t.server.endpointUrl, { ...secure(trusted, policy), identity: alice });
      const dv = await c.session.read({ nodeId: `ns=${c.ns};s=plc1/temp`, attributeId: AttributeIds.Value });
      await c.close();
      expect(dv.value.value).toBe(20.5);
    },
  );

  it('refuses a wrong password, and never logs it', async () => {
    await expect(connect(t.server.endpointUrl, { ...secure(trusted), identity: { ...alice, password: 'wrong-password' } })).rejects.toThrow(/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/);
    expect(t.logText()).toContain('Refused a client login');
    expect(t.logText()).not.toContain('wrong-password');
    expect(t.logText()).not.toContain(PASSWORD);
  });

  it('refuses anonymous sessions by default', async () => {
    await expect(connect(t.server.endpointUrl, secure(trusted))).rejects.toThrow(/Anonymous|BadIdentityToken|BadUserAccessDenied/i);
  });
});

describe('client certificates', () => {
  it('refuses a client certificate that is not trusted, logs how to trust it, and takes it once moved to trusted/', async () => {
    await expect(connect(t.server.endpointUrl, { ...secure(stranger), identity: alice })).rejects.toThrow();
    const line = await until('the refusal log line', () =>
      t
        .logText()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string; file?: string; thumbprint?: string })
        .find((l) => l.msg.startsWith('Refused a client certificate that is not trusted')),
    );
    const thumbprint = new X509Certificate(readFileSync(stranger.certificateFile)).fingerprint.replace(/:/g, '').toLowerCase();
    expect(line.thumbprint).toBe(thumbprint);
    expect(line.file).toContain(join(t.pkiDir, 'rejected'));
    expect(existsSync(line.file!)).toBe(true);

    // The operator's fix, while the server runs: move the file to trusted/certs. node-opcua's folder
    // watcher may not have registered a file moved within milliseconds of its rejection; it is
    // then filed under rejected/ again at the next attempt, and moved again, as an operator would.
    const trustedFile = join(t.pkiDir, 'trusted', 'certs', basename(line.file!));
    const c = await until(
      'the moved certificate to be trusted',
      async () => {
        if (existsSync(line.file!)) await rename(line.file!, trustedFile);
        return connect(t.server.endpointUrl, { ...secure(stranger), identity: alice }).catch(() => undefined);
      },
      20_000,
    );
    await c.close();
  });
});

describe('server certificate', () => {
  it('renewed its self-signed certificate at start because it was inside the warning window, and said so', () => {
    const cert = t.server.status().certificate!;
    expect(cert.daysLeft).toBeGreaterThan(300);
    expect(cert.renewedAt).toBeDefined();
    expect(cert.expiresSoon).toBe(false);
    expect(t.logText()).toContain('The server certificate was about to expire; renewed it');
    const own = readdirSync(join(t.pkiDir, 'own', 'certs'));
    expect(own.some((f) => f.startsWith('certificate.pem.expiring-'))).toBe(true);
  });

  it('serves the renewed certificate to clients', async () => {
    const client = createClient({ pki: trusted });
    await client.connect(t.server.endpointUrl);
    const endpoints = await client.getEndpoints();
    await client.disconnect();
    const served = new X509Certificate(endpoints[0]!.serverCertificate!);
    const onDisk = new X509Certificate(readFileSync(join(t.pkiDir, 'own', 'certs', 'certificate.pem')));
    expect(served.fingerprint).toBe(onDisk.fingerprint);
    expect(new Date(served.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
  });
});
