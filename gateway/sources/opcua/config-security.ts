import { z } from 'zod';
import { secretString } from '../../../common/config/shared.ts';

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export const DEFAULT_SECURE_POLICY = 'Basic256Sha256';
/** Relative to the gateway's working directory. */
export const DEFAULT_PKI_DIR = '.data/opcua/pki';

export const securitySchema = z
  .object({
    mode: z.enum(SECURITY_MODES).default('None').describe('Message security: None, Sign, or SignAndEncrypt.'),
    policy: z
      .enum(SECURITY_POLICIES)
      .optional()
      .meta({ description: 'Security policy: Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss; None only with mode None.', 'x-default': 'None with mode None, else Basic256Sha256' }),
    pki_dir: z
      .string()
      .min(1)
      .default(DEFAULT_PKI_DIR)
      .describe('PKI folder: own/ (client certificate and key), trusted/certs/ (trusted servers), rejected/ (untrusted servers, to review), issuers/.'),
    certificate_file: z.string().min(1).optional().describe('Client application certificate (PEM or DER). Unset: <pki_dir>/own/certs/client_certificate.pem, created self-signed on first start.'),
    private_key_file: z.string().min(1).optional().describe('Private key (PEM) of certificate_file. Unset: <pki_dir>/own/private/private_key.pem, created on first start.'),
    application_uri: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Application URI, written into a created certificate and sent to the server; must match the certificate.', 'x-default': 'urn:<host name>:iot-connector' }),
    auto_accept_server_certificate: z
      .boolean()
      .default(false)
      .describe('UNSAFE: trust any server certificate on first sight (it is copied to trusted/), so a man in the middle goes unnoticed. For first setup only.'),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.mode === 'None' && s.policy !== undefined && s.policy !== 'None') {
      ctx.addIssue({ code: 'custom', path: ['policy'], message: `policy ${s.policy} needs mode Sign or SignAndEncrypt` });
    }
    if (s.mode !== 'None' && s.policy === 'None') ctx.addIssue({ code: 'custom', path: ['policy'], message: `mode ${s.mode} needs a policy other than None` });
    if ((s.certificate_file === undefined) !== (s.private_key_file === undefined)) {
      ctx.addIssue({ code: 'custom', path: [s.certificate_file === undefined ? 'certificate_file' : 'private_key_file'], message: 'certificate_file and private_key_file go together' });
    }
  })
  .describe('Message security and the PKI folder (see gateway/sources/opcua/README.md).');

export const authSchema = z
  .object({
    type: z.enum(['anonymous', 'username', 'certificate']).default('anonymous').describe('User identity: anonymous, username (with password) or certificate (X.509).'),
    username: z.string().min(1).optional().describe('type username: the user name.'),
    password: secretString().optional().describe('type username: the password; use ${ENV_VAR} rather than writing it in the file.'),
    certificate_file: z.string().min(1).optional().describe('type certificate: the user certificate (PEM or DER).'),
    private_key_file: z.string().min(1).optional().describe('type certificate: its private key (PEM).'),
  })
  .strict()
  .superRefine((a, ctx) => {
    const need = (key: 'username' | 'password' | 'certificate_file' | 'private_key_file') => {
      if (a[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `type ${a.type} needs ${key}` });
    };
    const refuse = (key: 'username' | 'password' | 'certificate_file' | 'private_key_file') => {
      if (a[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not used with type ${a.type}` });
    };
    if (a.type === 'username') {
      need('username');
      need('password');
      refuse('certificate_file');
      refuse('private_key_file');
    } else if (a.type === 'certificate') {
      need('certificate_file');
      need('private_key_file');
      refuse('username');
      refuse('password');
    } else {
      for (const key of ['username', 'password', 'certificate_file', 'private_key_file'] as const) refuse(key);
    }
  })
  .describe('How the session authenticates.');

export type SecurityConfig = z.output<typeof securitySchema>;
export type AuthConfig = z.output<typeof authSchema>;

/** The policy in force: the configured one, else None for mode None and Basic256Sha256 otherwise. */
export function securityPolicyOf(s: SecurityConfig): (typeof SECURITY_POLICIES)[number] {
  return s.policy ?? (s.mode === 'None' ? 'None' : DEFAULT_SECURE_POLICY);
}
