import { timingSafeEqual, createHash } from 'node:crypto';
import {
  makeRoles,
  MessageSecurityMode,
  PermissionType,
  SecurityPolicy,
  WellKnownRoles,
  type Namespace,
  type NodeId,
  type UserManagerOptions,
} from 'node-opcua';
import type { Logger } from '../common/logger.ts';
import type { OpcuaServerConfig, SecurityModeName, SecurityPolicyName } from './config.ts';

/**
 * Who may connect and what they may do. Users log in with name and password from config;
 * anonymous login is off unless configured. Every session may browse and read; writing needs a
 * user with can_write (role Operator) and a variable that write-through made writable.
 */
const MODES: Record<SecurityModeName, MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};

const POLICIES: Record<SecurityPolicyName, SecurityPolicy> = {
  Basic256Sha256: SecurityPolicy.Basic256Sha256,
  Aes128_Sha256_RsaOaep: SecurityPolicy.Aes128_Sha256_RsaOaep,
  Aes256_Sha256_RsaPss: SecurityPolicy.Aes256_Sha256_RsaPss,
};

export function securityModes(config: OpcuaServerConfig): MessageSecurityMode[] {
  return config.security_modes.map((m) => MODES[m]);
}

/** The policies to offer; None is added when mode None is, since node-opcua pairs them. */
export function securityPolicies(config: OpcuaServerConfig): SecurityPolicy[] {
  const policies = config.security_policies.map((p) => POLICIES[p]);
  return config.security_modes.includes('None') ? [SecurityPolicy.None, ...policies] : policies;
}

const READ = PermissionType.Browse | PermissionType.Read | PermissionType.ReadRolePermissions | PermissionType.ReceiveEvents;
const READ_WRITE = READ | PermissionType.Write;

/** Default role permissions of the server's namespace: read for every session, write for Operators. */
export function applyRolePermissions(namespace: Namespace): void {
  namespace.setDefaultRolePermissions([
    { roleId: WellKnownRoles.Anonymous, permissions: READ },
    { roleId: WellKnownRoles.AuthenticatedUser, permissions: READ },
    { roleId: WellKnownRoles.Operator, permissions: READ_WRITE },
  ]);
}

/**
 * Checks passwords in constant time (over SHA-256 digests, so lengths do not leak) and gives
 * each user its roles. A user not in config (e.g. an X509 user token trusted in the user PKI)
 * is an AuthenticatedUser: read only. Never logs a password.
 */
export function userManager(config: OpcuaServerConfig, log: Logger): UserManagerOptions {
  const users = new Map(config.users.map((u) => [u.username, { digest: digest(u.password.reveal()), canWrite: u.can_write }]));
  const readerRoles = makeRoles([WellKnownRoles.AuthenticatedUser]);
  const writerRoles = makeRoles([WellKnownRoles.AuthenticatedUser, WellKnownRoles.Operator]);
  return {
    isValidUser(username: string, password: string): boolean {
      const user = users.get(username);
      // Compare against something even for an unknown user, so timing does not tell names apart.
      const ok = timingSafeEqual(digest(password ?? ''), user?.digest ?? digest('\0unknown-user\0')) && user !== undefined;
      if (!ok) log.warn({ username }, 'Refused a client login: unknown user name or wrong password.');
      return ok;
    },
    getUserRoles(username: string): NodeId[] {
      return users.get(username)?.canWrite ? writerRoles : readerRoles;
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
