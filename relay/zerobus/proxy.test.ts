import { describe, expect, it } from 'vitest';
import { exposeProxyEnvToGrpc, noProxyForGrpc, proxySettingsFromEnv, redactProxyUrl } from './proxy.ts';

describe('proxySettingsFromEnv', () => {
  it('reads lower case first, then upper case, as curl and undici do', () => {
    expect(proxySettingsFromEnv({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', HTTP_PROXY: 'http://c:3', NO_PROXY: 'x' })).toEqual({
      httpsProxy: 'http://a:1',
      httpProxy: 'http://c:3',
      noProxy: 'x',
    });
    expect(proxySettingsFromEnv({})).toEqual({ httpsProxy: undefined, httpProxy: undefined, noProxy: '' });
  });

  it('treats an empty variable as unset', () => {
    expect(proxySettingsFromEnv({ https_proxy: ' ', HTTPS_PROXY: 'http://b:2' }).httpsProxy).toBe('http://b:2');
  });

  it.each(['proxy:3128', 'https://proxy:3128', 'socks5://proxy:1080', 'not a url'])('refuses %s, which grpc-js would silently ignore', (value) => {
    expect(() => proxySettingsFromEnv({ HTTPS_PROXY: value })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', retryable: false }));
  });
});

describe('noProxyForGrpc', () => {
  it.each([
    ['localhost, 127.0.0.1', 'localhost,127.0.0.1'],
    ['*.corp.example,.internal', '.corp.example,.internal'],
    ['10.0.0.0/8,,', '10.0.0.0/8'],
    ['host.example:8443,[::1]:50051,::1', 'host.example,[::1],::1'],
    ['*', ''],
  ])('rewrites %j as %j', (input, output) => {
    expect(noProxyForGrpc(input)).toBe(output);
  });
});

describe('exposeProxyEnvToGrpc', () => {
  it('copies the upper-case variables to the lower-case names grpc-js reads', () => {
    const env: NodeJS.ProcessEnv = { HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://q:3128', NO_PROXY: 'localhost, .corp.example' };
    expect(exposeProxyEnvToGrpc(env)).toEqual({ proxy: 'http://p:3128', noProxy: 'localhost,.corp.example' });
    expect(env).toMatchObject({ https_proxy: 'http://p:3128', http_proxy: 'http://q:3128', no_proxy: 'localhost,.corp.example' });
  });

  it('leaves lower-case variables an operator set alone', () => {
    const env: NodeJS.ProcessEnv = { https_proxy: 'http://mine:1', HTTPS_PROXY: 'http://p:3128', no_proxy: 'a', NO_PROXY: 'b' };
    exposeProxyEnvToGrpc(env);
    expect(env).toMatchObject({ https_proxy: 'http://mine:1', no_proxy: 'a' });
  });

  it('keeps grpc_proxy, which grpc-js prefers for gRPC only', () => {
    expect(exposeProxyEnvToGrpc({ grpc_proxy: 'http://g:1', HTTPS_PROXY: 'http://p:2' }).proxy).toBe('http://g:1');
  });

  it('exposes no proxy when NO_PROXY is *', () => {
    const env: NodeJS.ProcessEnv = { HTTPS_PROXY: 'http://p:3128', NO_PROXY: '*' };
    expect(exposeProxyEnvToGrpc(env)).toEqual({ proxy: undefined, noProxy: '*' });
    expect(env.https_proxy).toBeUndefined();
  });

  it('changes nothing when no proxy is set', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin' };
    expect(exposeProxyEnvToGrpc(env)).toEqual({ proxy: undefined, noProxy: '' });
    expect(env).toEqual({ PATH: '/bin' });
  });
});

describe('redactProxyUrl', () => {
  it('hides user and password', () => {
    expect(redactProxyUrl('http://user:pa55@proxy:3128')).toBe('http://[redacted]@proxy:3128');
    expect(redactProxyUrl('http://proxy:3128')).toBe('http://proxy:3128');
  });
});
