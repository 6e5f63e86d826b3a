import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Secret } from '../../common/secret.ts';

/**
 * Guards the mutating endpoints. With a token configured, a request needs
 * `Authorization: Bearer <token>` (401 otherwise). Without one, they are off (403), so an
 * API reachable by mistake cannot replay or delete anything.
 */
export function requireToken(token: Secret | undefined): MiddlewareHandler {
  const expected = token ? digest(token.reveal()) : undefined;
  return async (c, next) => {
    if (!expected) {
      return c.json({ error: 'forbidden', message: 'mutating endpoints are disabled: set api.token in the relay configuration' }, 403);
    }
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="relay"');
      return c.json({ error: 'unauthorized', message: 'this endpoint needs the header Authorization: Bearer <api.token>' }, 401);
    }
    await next();
  };
}

/** Both sides hashed first: equal lengths, so the comparison takes the same time whatever was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
