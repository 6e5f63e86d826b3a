import { z } from 'zod';
import { logSchema, secretString } from '../../common/config/shared.ts';
import { faultsSchema } from './faults.ts';

export const DEFAULT_EMULATOR_GRPC_PORT = 50051;
export const DEFAULT_EMULATOR_HTTP_PORT = 50052;
export const DEFAULT_TOKEN_TTL_S = 3600;
export const DEFAULT_DATA_DIR = '.data/zerobus';

const listener = (port: number, what: string) =>
  z
    .object({
      host: z.string().min(1).default('127.0.0.1').describe(`Address the ${what} binds to.`),
      port: z.number().int().min(0).max(65535).default(port).describe(`Port of the ${what}; 0 picks a free one.`),
    })
    .strict();

export const emulatorConfigSchema = z
  .object({
    log: logSchema.prefault({}),
    grpc: listener(DEFAULT_EMULATOR_GRPC_PORT, 'Zerobus gRPC server (plaintext)').prefault({}),
    http: listener(DEFAULT_EMULATOR_HTTP_PORT, 'HTTP server: token endpoint and admin API').prefault({}),
    data_dir: z.string().min(1).default(DEFAULT_DATA_DIR).describe('Folder of the landed rows, one <catalog.schema.table>.jsonl file per table.'),
    fsync: z.boolean().default(false).describe('fsync each write before acking it (slower; survives power loss).'),
    token_ttl_s: z.number().int().min(1).default(DEFAULT_TOKEN_TTL_S).describe('Lifetime of issued access tokens (expires_in).'),
    clients: z
      .array(
        z
          .object({
            client_id: z.string().min(1).describe('Service principal client id.'),
            client_secret: secretString().describe('Its OAuth secret.'),
          })
          .strict(),
      )
      .default([])
      .describe('Service principals the token endpoint accepts; empty accepts any (demo mode).'),
    faults: faultsSchema.prefault({}).describe('Faults to inject from start-up; change them at run time with PUT/PATCH /api/faults.'),
  })
  .strict();

export type EmulatorConfig = z.output<typeof emulatorConfigSchema>;
