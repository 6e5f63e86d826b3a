import { describe, expect, it } from 'vitest';
import { tokenRequestBody } from './token.ts';

describe('tokenRequestBody', () => {
  it('asks for a token scoped to one table, as Zerobus expects', () => {
    const body = tokenRequestBody('1234567890123456', 'main.iot.mqtt_bronze');
    expect(body.get('grant_type')).toBe('client_credentials');
    expect(body.get('scope')).toBe('all-apis');
    expect(body.get('resource')).toBe('api://databricks/workspaces/1234567890123456/zerobusDirectWriteApi');
    expect(JSON.parse(body.get('authorization_details') ?? '[]')).toEqual([
      { type: 'unity_catalog_privileges', privileges: ['USE CATALOG'], object_type: 'CATALOG', object_full_path: 'main' },
      { type: 'unity_catalog_privileges', privileges: ['USE SCHEMA'], object_type: 'SCHEMA', object_full_path: 'main.iot' },
      {
        type: 'unity_catalog_privileges',
        privileges: ['SELECT', 'MODIFY'],
        object_type: 'TABLE',
        object_full_path: 'main.iot.mqtt_bronze',
        operations: ['zerobuswrite'],
      },
    ]);
  });
});
