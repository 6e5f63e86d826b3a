/**
 * For the emulator's tests: a token request built from DESIGN.md ("Zerobus wire protocol"),
 * not from the relay's code, so the emulator is checked against the protocol itself.
 */
export function tokenForm(workspaceId: string, table: string): URLSearchParams {
  const [catalog, schema] = table.split('.');
  const details = [
    { type: 'unity_catalog_privileges', privileges: ['USE CATALOG'], object_type: 'CATALOG', object_full_path: catalog },
    { type: 'unity_catalog_privileges', privileges: ['USE SCHEMA'], object_type: 'SCHEMA', object_full_path: `${catalog}.${schema}` },
    { type: 'unity_catalog_privileges', privileges: ['SELECT', 'MODIFY'], object_type: 'TABLE', object_full_path: table, operations: ['zerobuswrite'] },
  ];
  return new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'all-apis',
    resource: `api://databricks/workspaces/${workspaceId}/zerobusDirectWriteApi`,
    authorization_details: JSON.stringify(details),
  });
}

/** Rewrites one authorization_details entry of a token form. */
export function withDetail(form: URLSearchParams, index: number, change: (entry: Record<string, unknown>) => void): URLSearchParams {
  const details = JSON.parse(form.get('authorization_details') ?? '[]') as Array<Record<string, unknown>>;
  change(details[index] ?? {});
  const copy = new URLSearchParams(form);
  copy.set('authorization_details', JSON.stringify(details));
  return copy;
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
}
