import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpcuaSimulator, type RunningOpcuaSim } from '../../../sim/devices/opcua-sim.ts';
import { until } from '../../../test/helpers/wait.ts';
import { CONNECT_DEADLINE_MS, logLines, silentLog, startSource, tempPki } from './test-support.ts';

const USER = { username: 'operator', password: 's3cret' };
const POLICIES = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
const thumbprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint;
const UNTRUSTED = 'The OPC UA server certificate is not trusted; refusing to connect. To trust it, move the rejected file into the trusted folder.';

describe('OpcuaSource security', () => {
  let sim: RunningOpcuaSim;
  const pkis: Array<{ dir: string; remove(): void }> = [];
  const newPki = () => {
    const p = tempPki();
    pkis.push(p);
    return p.dir;
  };
  /** A PKI folder that already trusts the simulator. */
  let trusting: string;
  const config = (pkiDir: string, extra: Record<string, unknown> = {}) => ({
    endpoint_url: sim.endpointUrl,
    security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', pki_dir: pkiDir },
    auth: { type: 'username', ...USER },
    reconnect: { initial_delay_ms: 200, max_delay_ms: 400 },
    groups: [{ nodes: [{ node_id: `ns=${sim.namespaceIndex};s=Types.String`, tag: 'greeting' }] }],
    ...extra,
  });

  beforeAll(async () => {
    sim = await startOpcuaSimulator({
      counters: 0,
      changeIntervalMs: 0,
      securityModes: ['SignAndEncrypt'],
      securityPolicies: [...POLICIES],
      users: [USER],
      allowAnonymous: false,
      log: silentLog,
    });
    trusting = newPki();
    mkdirSync(join(trusting, 'trusted', 'certs'), { recursive: true });
    copyFileSync(sim.certificateFile, join(trusting, 'trusted', 'certs', 'sim.pem'));
  });
  afterAll(async () => {
    await sim?.stop();
    for (const p of pkis) p.remove();
  });

  it('creates its certificate, refuses an untrusted server naming the file to move, and connects once it is moved', async () => {
    const pkiDir = newPki();
    const { source, ctx } = await startSource('untrusted', config(pkiDir), false);
    const [created] = logLines(ctx, 'Created a self-signed client certificate; servers must trust it (copy it to their trusted folder).');
    expect(created?.certificateFile).toBe(join(pkiDir, 'own', 'certs', 'client_certificate.pem'));
    expect(created?.thumbprint).toBe(new X509Certificate(readFileSync(String(created?.certificateFile))).fingerprint.replace(/:/g, '').toLowerCase());

    await until('the refusal', () => logLines(ctx, UNTRUSTED)[0], CONNECT_DEADLINE_MS);
    const [refusal] = logLines(ctx, UNTRUSTED);
    expect(refusal).toMatchObject({ level: 'error', status: 'BadCertificateUntrusted', trustedFolder: join(pkiDir, 'trusted', 'certs') });
    const rejectedFile = String(refusal?.rejectedFile);
    expect(dirname(rejectedFile)).toBe(join(pkiDir, 'rejected'));
    expect(readFileSync(rejectedFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(source.status()).toMatchObject({ state: expect.not.stringMatching(/^connected$/), lastError: expect.stringContaining(`move ${rejectedFile} to ${join(pkiDir, 'trusted', 'certs')}`) });
    expect(ctx.readings).toEqual([]);

    renameSync(rejectedFile, join(pkiDir, 'trusted', 'certs', basename(rejectedFile)));
    await until('connected once trusted', () => source.status().state === 'connected', CONNECT_DEADLINE_MS);
    await until('a reading', () => ctx.readings.length > 0);
    expect(ctx.readings[0]?.value).toBe('hello');
    expect(logLines(ctx, UNTRUSTED)).toHaveLength(1);
    await source.stop();
  }, 60_000);

  it.each(POLICIES)('reads over SignAndEncrypt with %s and a user name and password', async (policy) => {
    const { source, ctx } = await startSource(`policy-${policy}`, config(trusting, { security: { mode: 'SignAndEncrypt', policy, pki_dir: trusting } }));
    await until('a reading', () => ctx.readings.length > 0);
    expect(ctx.readings[0]).toMatchObject({ tag: 'greeting', value: 'hello', quality: 0 });
    expect(ctx.logText()).not.toContain(USER.password);
    await source.stop();
  });

  it('keeps trying, and says why, when the server refuses the password', async () => {
    const { source, ctx } = await startSource('wrong-password', config(trusting, { auth: { type: 'username', username: USER.username, password: 'wrong' } }), false);
    await until('the refusal', () => /Bad(UserAccessDenied|IdentityTokenRejected|IdentityTokenInvalid)/.test(source.status().lastError ?? ''), CONNECT_DEADLINE_MS);
    expect(source.status().state).not.toBe('connected');
    expect(ctx.logText()).not.toContain('wrong"');
    await source.stop();
  });

  it('signs in with an X.509 user certificate', async () => {
    const userPki = newPki();
    const manager = new OPCUACertificateManager({ rootFolder: userPki });
    await manager.initialize();
    const certificateFile = join(userPki, 'own', 'certs', 'user.pem');
    await manager.createSelfSignedCertificate({ applicationUri: 'urn:operator', subject: '/CN=operator', dns: [], startDate: new Date(), validity: 30, outputFile: certificateFile });
    await manager.dispose();
    const { source, ctx } = await startSource('x509', config(trusting, { auth: { type: 'certificate', certificate_file: certificateFile, private_key_file: manager.privateKey } }));
    await until('a reading', () => ctx.readings.length > 0);
    expect(ctx.readings[0]?.value).toBe('hello');
    await source.stop();
  });

  it('trusts an unknown server with auto_accept_server_certificate, and warns that it did', async () => {
    const pkiDir = newPki();
    const { source, ctx } = await startSource('auto', config(pkiDir, { security: { mode: 'SignAndEncrypt', pki_dir: pkiDir, auto_accept_server_certificate: true } }));
    await until('a reading', () => ctx.readings.length > 0);
    expect(logLines(ctx, 'Trusted an unknown server certificate because auto_accept_server_certificate is on (unsafe: check the thumbprint, then turn it off).')[0]).toMatchObject({
      level: 'warn',
      trustedFolder: join(pkiDir, 'trusted', 'certs'),
    });
    const trusted = readdirSync(join(pkiDir, 'trusted', 'certs')).map((f) => thumbprint(join(pkiDir, 'trusted', 'certs', f)));
    expect(trusted).toContain(thumbprint(sim.certificateFile));
    await source.stop();
  });
});
