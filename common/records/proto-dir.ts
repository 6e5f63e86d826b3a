import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's proto/ folder, found by walking up from this file so it resolves the same
 * from sources (tsx), from a build in dist/, and from a container image. PROTO_DIR overrides.
 */
export function protoDir(env = process.env): string {
  if (env.PROTO_DIR) return resolve(env.PROTO_DIR);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'zerobus', 'zerobus.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('proto/ folder not found above common/records; set PROTO_DIR');
    dir = parent;
  }
}
