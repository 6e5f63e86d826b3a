import { z } from 'zod';

/** A Unity Catalog table name: catalog.schema.table, each part a plain identifier. */
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const tableName = z
  .string()
  .regex(TABLE_NAME_PATTERN, { message: 'expected a table name like catalog.schema.table' })
  .describe('Unity Catalog table, catalog.schema.table.');

export interface TableParts {
  catalog: string;
  schema: string;
  table: string;
}

export function splitTableName(name: string): TableParts {
  const [catalog, schema, table] = name.split('.');
  if (!catalog || !schema || !table || !TABLE_NAME_PATTERN.test(name)) {
    throw new Error(`invalid table name "${name}": expected catalog.schema.table`);
  }
  return { catalog, schema, table };
}
