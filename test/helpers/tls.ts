import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import forge from 'node-forge';

/**
 * Test certificates made at test time, in pure JavaScript (node-forge builds the X.509
 * structures; Node's crypto makes the RSA keys), so no openssl binary is needed.
 */

const KEY_BITS = 2048;
const VALID_DAYS = 2;
const DAY_MS = 86_400_000;

export interface Pem {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: Pem;
  /** A server certificate signed by the CA. */
  server: Pem;
  /** ca.cert written to a file, for zerobus.ca_file. */
  caFile: string;
  dir: string;
  remove(): Promise<void>;
}

function rsaKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: KEY_BITS, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem: privateKey };
}

function newCertificate(publicKey: forge.pki.PublicKey, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the first byte's high bit clear.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return cert;
}

/** A CA, and a server certificate it signs for the given host names and IP addresses (SAN). */
export function makeCertificates(options: { hosts?: string[]; notBefore?: Date; notAfter?: Date } = {}): { ca: Pem; server: Pem } {
  const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
  const now = Date.now();
  const caKeys = rsaKeyPair();
  const ca = newCertificate(caKeys.publicKey, new Date(now - DAY_MS), new Date(now + VALID_DAYS * DAY_MS));
  const caName = [{ name: 'commonName', value: 'iot-connector test CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = rsaKeyPair();
  const server = newCertificate(serverKeys.publicKey, options.notBefore ?? new Date(now - DAY_MS), options.notAfter ?? new Date(now + VALID_DAYS * DAY_MS));
  server.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
  server.setIssuer(caName);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    ca: { cert: forge.pki.certificateToPem(ca), key: caKeys.pem },
    server: { cert: forge.pki.certificateToPem(server), key: serverKeys.pem },
  };
}

/**
 * A client certificate (extKeyUsage clientAuth) signed by the CA, for brokers that require
 * one. With a passphrase, the key is PKCS#8 encrypted with AES-256-CBC.
 */
export function makeClientCertificate(ca: Pem, options: { commonName?: string; passphrase?: string } = {}): Pem {
  const now = Date.now();
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: KEY_BITS });
  const forgePublic = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const cert = newCertificate(forgePublic, new Date(now - DAY_MS), new Date(now + VALID_DAYS * DAY_MS));
  cert.setSubject([{ name: 'commonName', value: options.commonName ?? 'iot-connector test client' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.key), forge.md.sha256.create());
  const key = options.passphrase
    ? privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: options.passphrase }).toString()
    : privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert: forge.pki.certificateToPem(cert), key };
}

/** Writes PEM text to files in dir; returns their paths by name. */
export async function writePemFiles<K extends string>(dir: string, files: Record<K, string>): Promise<Record<K, string>> {
  const paths = {} as Record<K, string>;
  for (const [name, text] of Object.entries(files) as Array<[K, string]>) {
    paths[name] = join(dir, `${name}.pem`);
    await writeFile(paths[name], text);
  }
  return paths;
}

/** Certificates as makeCertificates() makes them, with the CA written to a temporary file. */
export async function makeTestPki(options: Parameters<typeof makeCertificates>[0] = {}): Promise<TestPki> {
  const { ca, server } = makeCertificates(options);
  const dir = await mkdtemp(join(tmpdir(), 'zerobus-tls-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.cert);
  return { ca, server, caFile, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TlsFront {
  port: number;
  /** 127.0.0.1:port */
  address: string;
  /** TLS handshakes completed. */
  readonly handshakes: number;
  close(): Promise<void>;
}

/**
 * A TLS terminator on 127.0.0.1 that forwards each connection, decrypted, to a plaintext
 * server: put in front of the emulator's gRPC port it makes a Zerobus endpoint that speaks
 * TLS with the given certificate (ALPN h2, as gRPC requires).
 */
export async function startTlsFront(server: Pem, targetPort: number): Promise<TlsFront> {
  const sockets = new Set<Socket>();
  let handshakes = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const front = createTlsServer({ cert: server.cert, key: server.key, ALPNProtocols: ['h2'] }, (tls: TLSSocket) => {
    handshakes++;
    track(tls);
    const backend = netConnect({ host: '127.0.0.1', port: targetPort });
    track(backend);
    tls.pipe(backend).pipe(tls);
    tls.on('error', () => backend.destroy());
    backend.on('error', () => tls.destroy());
    tls.once('close', () => backend.destroy());
    backend.once('close', () => tls.destroy());
  });
  // A client that refuses the certificate aborts the handshake; that is expected here.
  front.on('tlsClientError', () => undefined);
  front.on('connection', track);
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (front.address() as { port: number }).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    get handshakes() {
      return handshakes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        front.close(() => resolve());
      }),
  };
}
