import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OPCUACertificateManager } from 'node-opcua';
import { captureLogger } from '../test/helpers/logs.ts';
import { makeCertificates } from '../test/helpers/tls.ts';
import { ensureOwnCertificate, inspectCertificate, MS_PER_DAY, type OwnCertificateOptions } from './certificate.ts';

const WARNING_DAYS = 30;

describe('inspectCertificate', () => {
  it('tells a self-signed certificate from a CA-signed one, and counts the days left', () => {
    const now = new Date();
    const { ca, server } = makeCertificates({ notAfter: new Date(now.getTime() + 10 * MS_PER_DAY + 60_000) });
    const own = inspectCertificate('ca.pem', ca.cert, now, WARNING_DAYS);
    const signed = inspectCertificate('server.pem', server.cert, now, WARNING_DAYS);
    expect(own.selfSigned).toBe(true);
    expect(signed.selfSigned).toBe(false);
    expect(signed.daysLeft).toBe(10);
    expect(signed.expiresSoon).toBe(true);
    expect(inspectCertificate('server.pem', server.cert, now, 5).expiresSoon).toBe(false);
    expect(inspectCertificate('server.pem', server.cert, new Date(now.getTime() + 11 * MS_PER_DAY), 5).daysLeft).toBe(-1);
  });
});

describe('ensureOwnCertificate', () => {
  let dir: string;
  let cm: OPCUACertificateManager;
  let options: OwnCertificateOptions;
  let logs: ReturnType<typeof captureLogger>;

  // One key for every case (RSA key generation is the slow part); each case starts with no certificate.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opcua-cert-test-'));
    cm = new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: false });
    await cm.initialize();
  });

  beforeEach(async () => {
    await rm(join(cm.rootDir, 'own', 'certs'), { recursive: true, force: true });
    await mkdir(join(cm.rootDir, 'own', 'certs'), { recursive: true });
    logs = captureLogger('cert');
    options = {
      cm,
      certificateFile: join(cm.rootDir, 'own', 'certs', 'certificate.pem'),
      applicationUri: 'urn:test:server',
      subject: '/CN=test server',
      dns: ['localhost'],
      ip: ['127.0.0.1'],
      validityDays: 365,
      warningDays: WARNING_DAYS,
      renewSelfSigned: true,
      log: logs.log,
    };
  });

  afterAll(async () => {
    await cm.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a self-signed certificate on first start, valid for validity_days', async () => {
    const state = await ensureOwnCertificate({ ...options, validityDays: 90 });
    expect(existsSync(options.certificateFile)).toBe(true);
    expect(state.selfSigned).toBe(true);
    expect(state.daysLeft).toBeGreaterThanOrEqual(89);
    expect(logs.text()).toContain('Created the server certificate (self-signed).');
  });

  it('keeps a certificate outside the warning window as it is', async () => {
    await ensureOwnCertificate(options);
    const before = readFileSync(options.certificateFile, 'utf8');
    const state = await ensureOwnCertificate({ ...options, now: () => new Date(Date.now() + 300 * MS_PER_DAY) });
    expect(readFileSync(options.certificateFile, 'utf8')).toBe(before);
    expect(state.expiresSoon).toBe(false);
  });

  it('renews a self-signed certificate inside the warning window, keeping the old one beside it', async () => {
    await ensureOwnCertificate(options);
    const before = readFileSync(options.certificateFile, 'utf8');
    const later = new Date(Date.now() + 340 * MS_PER_DAY);
    const state = await ensureOwnCertificate({ ...options, now: () => later });
    expect(readFileSync(options.certificateFile, 'utf8')).not.toBe(before);
    expect(state.renewedAt).toBe(later.toISOString());
    expect(state.daysLeft).toBeGreaterThanOrEqual(364);
    expect(readdirSync(join(cm.rootDir, 'own', 'certs')).some((f) => f.startsWith('certificate.pem.expiring-'))).toBe(true);
    expect(logs.text()).toContain('renewed it (self-signed, same key)');
  });

  it('only warns about a self-signed certificate when renew_self_signed is off', async () => {
    await ensureOwnCertificate(options);
    const before = readFileSync(options.certificateFile, 'utf8');
    const state = await ensureOwnCertificate({ ...options, renewSelfSigned: false, now: () => new Date(Date.now() + 340 * MS_PER_DAY) });
    expect(readFileSync(options.certificateFile, 'utf8')).toBe(before);
    expect(state.expiresSoon).toBe(true);
    expect(logs.text()).toContain('renew_self_signed is off');
  });

  it('never replaces a CA-signed certificate; it warns to have it re-issued', async () => {
    const { server } = makeCertificates({ notAfter: new Date(Date.now() + 10 * MS_PER_DAY) });
    await writeFile(options.certificateFile, server.cert);
    const state = await ensureOwnCertificate(options);
    expect(readFileSync(options.certificateFile, 'utf8')).toBe(server.cert);
    expect([state.selfSigned, state.expiresSoon]).toEqual([false, true]);
    expect(logs.text()).toContain('have it re-issued by its CA');
  });
});
