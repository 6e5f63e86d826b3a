import { hostname } from 'node:os';
import { z } from 'zod';
import { secretString } from '../common/config/shared.ts';
import { globProblem } from './glob.ts';

export const DEFAULT_OPCUA_SERVER_PORT = 4840;
export const DEFAULT_OPCUA_SERVER_HOST = '0.0.0.0';
export const DEFAULT_ENDPOINT_PATH = '/connector';
export const DEFAULT_PKI_DIR = '.data/opcua-server/pki';
export const DEFAULT_CERT_EXPIRY_WARNING_DAYS = 30;
export const DEFAULT_CERT_VALIDITY_DAYS = 365;
export const MAX_CERT_VALIDITY_DAYS = 3650;
export const DEFAULT_CERT_CHECK_INTERVAL_MS = 6 * 60 * 60 * 1000;
export const MIN_CERT_CHECK_INTERVAL_MS = 1_000;
export const MAX_CERT_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_DIAGNOSTICS_INTERVAL_MS = 1_000;
export const MIN_DIAGNOSTICS_INTERVAL_MS = 100;
export const MAX_DIAGNOSTICS_INTERVAL_MS = 60_000;
export const DEFAULT_MIN_SAMPLING_INTERVAL_MS = 0;
export const MAX_MIN_SAMPLING_INTERVAL_MS = 60_000;
export const DEFAULT_MAX_SESSIONS = 20;
export const MAX_SESSIONS = 1_000;
export const DEFAULT_MAX_CONNECTIONS_PER_ENDPOINT = 20;
export const DEFAULT_WRITE_TIMEOUT_MS = 10_000;
export const MIN_WRITE_TIMEOUT_MS = 100;
export const MAX_WRITE_TIMEOUT_MS = 120_000;

export const DEFAULT_SHUTDOWN_GRACE_MS = 500;
export const MAX_SHUTDOWN_GRACE_MS = 60_000;

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type SecurityModeName = (typeof SECURITY_MODES)[number];
/** The policies the OPC UA client driver speaks too; Basic128Rsa15 and Basic256 are deprecated and left out. */
export const SECURITY_POLICIES = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

const hostLabel = () => hostname().replace(/[^A-Za-z0-9_.-]/g, '-');
const SOURCE_NAME = /^[A-Za-z0-9_.-]+$/;
const USERNAME = /^[^\s:]+$/;

const userSchema = z
  .object({
    username: z.string().min(1).regex(USERNAME, { message: 'expected no spaces or colons' }).describe('User name an OPC UA client logs in with.'),
    password: secretString().describe('Password of that user; use ${ENV_VAR} rather than writing it in the file.'),
    can_write: z
      .boolean()
      .default(false)
      .describe('This user may write to variables that write_through makes writable. Other users get BadUserAccessDenied.'),
  })
  .strict()
  .describe('One user allowed to log in with user name and password.');

const writeThroughSourceSchema = z
  .object({
    tags: z
      .array(
        z.string().superRefine((pattern, ctx) => {
          const problem = globProblem(pattern);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .min(1)
      .default(['**'])
      .describe("Tag paths clients may write, as patterns: '*' matches within one folder level, '**' across levels, e.g. setpoints/* or **."),
  })
  .strict()
  .describe('Write-through for one source: writes to its matching tags go to the device through the driver.');

const certificateSchema = z
  .object({
    expiry_warning_days: z
      .number()
      .int()
      .min(1)
      .max(MAX_CERT_VALIDITY_DAYS)
      .default(DEFAULT_CERT_EXPIRY_WARNING_DAYS)
      .describe("Warn in the log and in status this many days before the server's own certificate expires."),
    renew_self_signed: z
      .boolean()
      .default(true)
      .describe('Replace a self-signed server certificate by a new one (same key) once it is inside the warning window. A CA-signed one is never replaced.'),
    validity_days: z
      .number()
      .int()
      .min(1)
      .max(MAX_CERT_VALIDITY_DAYS)
      .default(DEFAULT_CERT_VALIDITY_DAYS)
      .describe('Validity of a self-signed certificate the server creates (first start or renewal).'),
    check_interval_ms: z
      .number()
      .int()
      .min(MIN_CERT_CHECK_INTERVAL_MS)
      .max(MAX_CERT_CHECK_INTERVAL_MS)
      .default(DEFAULT_CERT_CHECK_INTERVAL_MS)
      .describe('How often the running server checks its certificate for expiry, in milliseconds.'),
  })
  .strict()
  .describe("The server's own certificate.");

export const opcuaServerConfigSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Run the aggregated OPC UA server inside the gateway.'),
    host: z.string().min(1).default(DEFAULT_OPCUA_SERVER_HOST).describe('Address the server binds to; 0.0.0.0 for every interface.'),
    port: z.number().int().min(0).max(65535).default(DEFAULT_OPCUA_SERVER_PORT).describe('TCP port of the server; 0 picks a free one.'),
    endpoint_path: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]*$/, { message: 'expected a path starting with /' })
      .default(DEFAULT_ENDPOINT_PATH)
      .describe('Path at the end of the endpoint URL, e.g. /connector for opc.tcp://host:4840/connector.'),
    advertised_hostname: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Host name in the endpoint URLs the server hands out and in its certificate. Unset: the host name.', 'x-default': '<host name>' }),
    application_uri: z
      .string()
      .min(1)
      .default(() => `urn:${hostLabel()}:iot-connector:server`)
      .meta({ description: "The server's ApplicationUri; it is written into the certificate the server creates.", 'x-default': 'urn:<host name>:iot-connector:server' }),
    namespace_uri: z
      .string()
      .min(1)
      .default(() => `urn:${hostLabel()}:iot-connector`)
      .meta({ description: 'Namespace URI of every source folder, tag and diagnostic node.', 'x-default': 'urn:<host name>:iot-connector' }),
    security_modes: z
      .array(z.enum(SECURITY_MODES))
      .min(1)
      .default(['Sign', 'SignAndEncrypt'])
      .describe('Message security modes offered. None sends everything in clear text: add it only on a closed network.'),
    security_policies: z
      .array(z.enum(SECURITY_POLICIES))
      .min(1)
      .default([...SECURITY_POLICIES])
      .describe('Security policies offered with Sign and SignAndEncrypt.'),
    allow_anonymous: z.boolean().default(false).describe('Let clients connect without a user name. Anonymous clients may browse and read, never write.'),
    users: z.array(userSchema).default([]).describe('Users who may log in with user name and password.'),
    pki_dir: z
      .string()
      .min(1)
      .default(DEFAULT_PKI_DIR)
      .describe("Folder of the server's PKI: own/ (its certificate and key), trusted/certs and rejected/ (client certificates)."),
    certificate: certificateSchema.prefault({}),
    write_through: z
      .record(z.string().regex(SOURCE_NAME, { message: 'expected a source name' }), writeThroughSourceSchema)
      .default({})
      .describe("Sources (by name) whose tags clients may write, e.g. { plc1: { tags: ['setpoints/*'] } }; tags defaults to ['**']. Only tags the driver declares writable qualify. Empty: every variable is read-only."),
    write_timeout_ms: z
      .number()
      .int()
      .min(MIN_WRITE_TIMEOUT_MS)
      .max(MAX_WRITE_TIMEOUT_MS)
      .default(DEFAULT_WRITE_TIMEOUT_MS)
      .describe('Longest a client write waits for the device; after it the client gets BadTimeout.'),
    max_sessions: z.number().int().min(1).max(MAX_SESSIONS).default(DEFAULT_MAX_SESSIONS).describe('Most client sessions open at once.'),
    max_connections_per_endpoint: z
      .number()
      .int()
      .min(1)
      .max(MAX_SESSIONS)
      .default(DEFAULT_MAX_CONNECTIONS_PER_ENDPOINT)
      .describe('Most TCP connections open at once per endpoint.'),
    min_sampling_interval_ms: z
      .number()
      .int()
      .min(0)
      .max(MAX_MIN_SAMPLING_INTERVAL_MS)
      .default(DEFAULT_MIN_SAMPLING_INTERVAL_MS)
      .describe('Fastest sampling interval granted to subscriptions. 0: every change of a variable is reported; above 0, changes within the interval are folded into the last one.'),
    diagnostics_interval_ms: z
      .number()
      .int()
      .min(MIN_DIAGNOSTICS_INTERVAL_MS)
      .max(MAX_DIAGNOSTICS_INTERVAL_MS)
      .default(DEFAULT_DIAGNOSTICS_INTERVAL_MS)
      .describe('How often the diagnostic variables (source state, gateway uptime, queue depth, spool size) are refreshed, in milliseconds.'),
    shutdown_grace_ms: z
      .number()
      .int()
      .min(0)
      .max(MAX_SHUTDOWN_GRACE_MS)
      .default(DEFAULT_SHUTDOWN_GRACE_MS)
      .describe('At stop, how long clients can see ServerState Shutdown before connections close, in milliseconds.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.users.forEach((user, index) => {
      const first = seen.get(user.username);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['users', index, 'username'], message: `duplicate user "${user.username}" (also users[${first}])` });
      else seen.set(user.username, index);
    });
    if (config.enabled && !config.allow_anonymous && config.users.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['users'], message: 'no client could log in: add a user, or set allow_anonymous: true' });
    }
  })
  .describe('The aggregated OPC UA server: every tag of every source in one namespace, for SCADA and HMI clients.');

export type OpcuaServerConfig = z.output<typeof opcuaServerConfigSchema>;
export type OpcuaServerUser = OpcuaServerConfig['users'][number];
