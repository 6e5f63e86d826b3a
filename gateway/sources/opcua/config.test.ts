import { describe, expect, it } from 'vitest';
import { problemsFromZod } from '../../../common/config/issues.ts';
import { Secret } from '../../../common/secret.ts';
import { opcuaConfigSchema, securityPolicyOf } from './config.ts';

function problems(input: unknown): string[] {
  const result = opcuaConfigSchema.safeParse(input, { reportInput: true });
  return result.success ? [] : problemsFromZod(result.error.issues).map((p) => `${p.path}: ${p.message}`);
}

const base = { endpoint_url: 'opc.tcp://plc1:4840', groups: [{ nodes: [{ node_id: 'ns=2;s=Temp' }] }] };

describe('opcua config schema', () => {
  it('fills every default', () => {
    expect(opcuaConfigSchema.parse(base)).toEqual({
      endpoint_url: 'opc.tcp://plc1:4840',
      security: { mode: 'None', pki_dir: '.data/opcua/pki', auto_accept_server_certificate: false },
      auth: { type: 'anonymous' },
      session_timeout_ms: 60000,
      request_timeout_ms: 30000,
      reconnect: { initial_delay_ms: 1000, max_delay_ms: 300000 },
      max_items_per_call: 1000,
      max_nodes_per_read: 1000,
      max_nodes_per_browse: 1000,
      read_metadata: true,
      groups: [
        {
          mode: 'subscription',
          publishing_interval_ms: 1000,
          keep_alive_count: 10,
          lifetime_count: 60,
          max_notifications_per_publish: 10000,
          max_items_per_subscription: 10000,
          poll_interval_ms: 1000,
          sampling_interval_ms: -1,
          queue_size: 10,
          discard_oldest: true,
          nodes: [{ node_id: 'ns=2;s=Temp', writable: false }],
          discover: [],
        },
      ],
    });
  });

  it('fills discovery defaults and keeps per-node overrides unset', () => {
    const c = opcuaConfigSchema.parse({ ...base, groups: [{ discover: [{}], nodes: [{ browse_path: '/Objects/2:A', queue_size: 1 }] }] });
    expect(c.groups[0]?.discover[0]).toEqual({
      from: '/Objects',
      max_depth: 5,
      node_classes: ['Object', 'Variable'],
      type_definitions: [],
      data_types: [],
      include_properties: false,
      max_variables: 10000,
      tag_prefix: '',
      writable: false,
    });
    expect(c.groups[0]?.nodes[0]).toEqual({ browse_path: '/Objects/2:A', queue_size: 1, writable: false });
  });

  it('wraps the password in a Secret', () => {
    const c = opcuaConfigSchema.parse({ ...base, auth: { type: 'username', username: 'op', password: 'pw' } });
    expect(c.auth.password).toBeInstanceOf(Secret);
    expect(c.auth.password?.reveal()).toBe('pw');
  });

  it('takes Basic256Sha256 as the policy of a secure mode unless one is named', () => {
    const secure = opcuaConfigSchema.parse({ ...base, security: { mode: 'SignAndEncrypt' } });
    expect(securityPolicyOf(secure.security)).toBe('Basic256Sha256');
    expect(securityPolicyOf(opcuaConfigSchema.parse(base).security)).toBe('None');
    const pss = opcuaConfigSchema.parse({ ...base, security: { mode: 'Sign', policy: 'Aes256_Sha256_RsaPss' } });
    expect(securityPolicyOf(pss.security)).toBe('Aes256_Sha256_RsaPss');
  });

  it.each([
    ['an http URL', { ...base, endpoint_url: 'http://plc' }, ['endpoint_url: expected an opc.tcp:// URL, got "http://plc"']],
    ['a group without nodes', { ...base, groups: [{}] }, ['groups[0].nodes: a group needs nodes or discover']],
    ['a node with both ids', { ...base, groups: [{ nodes: [{ node_id: 'i=1', browse_path: '/Objects' }] }] }, ['groups[0].nodes[0]: expected exactly one of node_id and browse_path']],
    ['a bad NodeId', { ...base, groups: [{ nodes: [{ node_id: 'Temp' }] }] }, ['groups[0].nodes[0].node_id: expected a NodeId such as ns=2;s=Line1.Temp, i=2258 or nsu=urn:plant;s=Temp, got "Temp"']],
    ['a relative browse path', { ...base, groups: [{ nodes: [{ browse_path: 'Objects/2:A' }] }] }, ['groups[0].nodes[0].browse_path: a browse path starts at the Root folder with "/", as in /Objects/2:Plant, got "Objects/2:A"']],
    ['a percent deadband over 100', { ...base, groups: [{ filter: { deadband_type: 'percent', deadband_value: 150 }, nodes: [{ node_id: 'i=1' }] }] }, ['groups[0].filter.deadband_value: a percent deadband is 0-100, got 150']],
    ['a short lifetime', { ...base, groups: [{ keep_alive_count: 30, lifetime_count: 60, nodes: [{ node_id: 'i=1' }] }] }, ['groups[0].lifetime_count: must be at least 3 x keep_alive_count (90), got 60']],
    ['a policy without security', { ...base, security: { policy: 'Basic256Sha256' } }, ['security.policy: policy Basic256Sha256 needs mode Sign or SignAndEncrypt']],
    ['a secure mode with policy None', { ...base, security: { mode: 'Sign', policy: 'None' } }, ['security.policy: mode Sign needs a policy other than None']],
    ['an obsolete policy', { ...base, security: { mode: 'Sign', policy: 'Basic128Rsa15' } }, ['security.policy: expected one of None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss; got "Basic128Rsa15"']],
    ['a certificate without its key', { ...base, security: { certificate_file: 'c.pem' } }, ['security.private_key_file: certificate_file and private_key_file go together']],
    ['username without password', { ...base, auth: { type: 'username', username: 'op' } }, ['auth.password: type username needs password']],
    ['a password with anonymous', { ...base, auth: { password: 'x' } }, ['auth.password: not used with type anonymous']],
    ['certificate auth without files', { ...base, auth: { type: 'certificate' } }, ['auth.certificate_file: type certificate needs certificate_file', 'auth.private_key_file: type certificate needs private_key_file']],
    ['a max delay below the initial one', { ...base, reconnect: { initial_delay_ms: 5000, max_delay_ms: 1000 } }, ['reconnect.max_delay_ms: must be at least initial_delay_ms (5000)']],
    ['two groups with one name', { ...base, groups: [{ name: 'a', nodes: [{ node_id: 'i=1' }] }, { name: 'a', nodes: [{ node_id: 'i=2' }] }] }, ['groups[1].name: duplicate group name "a" (also groups[0])']],
    ['an unknown data type filter', { ...base, groups: [{ discover: [{ data_types: ['Decimal'] }] }] }, ['groups[0].discover[0].data_types[0]: expected one of Boolean, SByte, Byte, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double, String, DateTime; got "Decimal"']],
    ['an unknown key', { ...base, groups: [{ nodes: [{ node_id: 'i=1', sampling_ms: 5 }] }] }, ['groups[0].nodes[0].sampling_ms: unknown key']],
  ])('refuses %s', (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });
});
