import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig, MqttTlsConfig } from './config.ts';
import { DEFAULT_SESSION_EXPIRY_S } from './config.ts';

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** A TLS file that cannot be used. Not retryable: the config or the file must be fixed. */
export class MqttTlsConfigError extends Error {
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MqttTlsConfigError';
  }
}

/** TLS material read from the files the config names, checked to fit together. */
interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

/**
 * mqtt.js options for a config. Reads the TLS files (the only I/O) and checks them, so a
 * missing file, a key that does not decrypt or a key that does not match its certificate
 * stops start-up with the key path named, before any socket opens.
 */
export async function clientOptions(config: MqttConfig, clientId: string, reconnectPeriodMs: number): Promise<IClientOptions> {
  const options: IClientOptions = {
    clientId,
    protocolVersion: config.protocol_version,
    keepalive: config.keepalive_s,
    clean: config.clean,
    reconnectPeriod: reconnectPeriodMs,
    // A refused CONNACK (bad credentials, server unavailable) is retried with backoff too: an
    // operator may fix the broker's ACL while the gateway keeps trying.
    reconnectOnConnackError: true,
    connectTimeout: config.connect_timeout_ms,
    // The driver subscribes on connect itself, so it can see and report refusals.
    resubscribe: false,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password.reveal() } : {}),
  };
  if (config.protocol_version === 5 && !config.clean) {
    options.properties = { sessionExpiryInterval: config.session_expiry_s ?? DEFAULT_SESSION_EXPIRY_S };
  }
  if (config.url.startsWith('mqtts:') || config.url.startsWith('wss:')) {
    const tls = await readTlsMaterial(config.tls);
    if (config.url.startsWith('wss:')) options.wsOptions = { ...tls };
    else Object.assign(options, tls);
  }
  return options;
}

export async function readTlsMaterial(tls: MqttTlsConfig | undefined): Promise<TlsMaterial> {
  const material: TlsMaterial = { rejectUnauthorized: tls?.verify_server ?? true };
  if (!tls) return material;
  if (tls.servername !== undefined) material.servername = tls.servername;
  if (tls.ca_file !== undefined) material.ca = await readPem('tls.ca_file', tls.ca_file, PEM_CERTIFICATE);
  if (tls.cert_file !== undefined && tls.key_file !== undefined) {
    material.cert = await readPem('tls.cert_file', tls.cert_file, PEM_CERTIFICATE);
    material.key = await readPem('tls.key_file', tls.key_file, PEM_PRIVATE_KEY);
    if (tls.key_passphrase !== undefined) material.passphrase = tls.key_passphrase.reveal();
    checkKey(material, tls.key_file);
  }
  return material;
}

async function readPem(key: string, path: string, marker: string | RegExp): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new MqttTlsConfigError(`${key} ${path} cannot be read: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  const found = typeof marker === 'string' ? text.includes(marker) : marker.test(text);
  if (!found) throw new MqttTlsConfigError(`${key} ${path} holds no PEM ${typeof marker === 'string' ? 'certificate' : 'private key'}`);
  return text;
}

/** Fails with the reason when the key does not decrypt or does not belong to the certificate. */
function checkKey(material: TlsMaterial, keyFile: string): void {
  try {
    createPrivateKey({ key: material.key as string, ...(material.passphrase !== undefined ? { passphrase: material.passphrase } : {}) });
  } catch (cause) {
    const hint = material.passphrase === undefined ? 'it is encrypted: set tls.key_passphrase' : 'check tls.key_passphrase';
    throw new MqttTlsConfigError(`tls.key_file ${keyFile} cannot be decrypted or read (${hint})`, { cause });
  }
  try {
    createSecureContext({ cert: material.cert, key: material.key, ...(material.passphrase !== undefined ? { passphrase: material.passphrase } : {}) });
  } catch (cause) {
    throw new MqttTlsConfigError(`tls.key_file ${keyFile} does not match tls.cert_file (${(cause as Error).message})`, { cause });
  }
}
