import { describe, expect, it } from 'vitest';
import { captureLogger } from '../test/helpers/logs.ts';
import { Secret } from './secret.ts';

const SECRET = 'sp-secret-3f9a0c7e';

describe('logger', () => {
  it('writes JSON lines with the component fields of its child', () => {
    const { log, lines } = captureLogger();
    log.child({ component: 'mqtt', source: 'line1' }).info({ topic: 'a/b' }, 'Subscribed.');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'info', component: 'mqtt', source: 'line1', topic: 'a/b', msg: 'Subscribed.' });
  });

  it('never writes a secret, however it is logged', () => {
    const { log, text } = captureLogger();
    const secret = new Secret(SECRET);
    log.info({ config: { zerobus: { client_id: 'sp', client_secret: secret } } }, 'Config loaded.');
    log.info({ secret }, 'A Secret logged directly.');
    log.info({ password: SECRET, token: SECRET, access_token: SECRET }, 'Plain fields with secret names.');
    log.info({ headers: { authorization: `Bearer ${SECRET}` }, req: { authorization: `Basic ${SECRET}` } }, 'Headers.');
    log.info({ options: { password: SECRET } }, 'Nested option object.');
    log.info(`A message that interpolates ${secret}.`);
    expect(text()).not.toContain(SECRET);
    expect(text()).toContain('[redacted]');
  });
});
