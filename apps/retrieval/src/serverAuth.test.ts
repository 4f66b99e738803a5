import { describe, expect, it } from 'vitest';
import { isLoopbackHost, resolveServeAuth, tokenMatches } from './serverAuth.js';

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['', false],
    ['192.168.1.20', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['example.com', false],
    ['127.0.0.1.example.com', false],
  ])('%s -> %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe('resolveServeAuth', () => {
  it('serves loopback without a token, and enforces a token given on loopback', () => {
    expect(resolveServeAuth({ host: '127.0.0.1' })).toBeNull();
    expect(resolveServeAuth({ host: '127.0.0.1', token: 's3cret' })).toBe('s3cret');
  });

  it.each(['0.0.0.0', '::', '192.168.1.20'])('refuses %s without a token (E_SERVE_AUTH naming the way out)', (host) => {
    expect(() => resolveServeAuth({ host })).toThrowError(expect.objectContaining({ code: 'E_SERVE_AUTH' }));
    expect(() => resolveServeAuth({ host })).toThrow(/--token.*TESSERA_TOKEN.*--insecure-no-auth/);
  });

  it('serves a non-loopback host with a token, or open only with insecureNoAuth', () => {
    expect(resolveServeAuth({ host: '0.0.0.0', token: 'abc' })).toBe('abc');
    expect(resolveServeAuth({ host: '0.0.0.0', insecureNoAuth: true })).toBeNull();
    // A token wins over insecureNoAuth: given, it is enforced.
    expect(resolveServeAuth({ host: '0.0.0.0', token: 'abc', insecureNoAuth: true })).toBe('abc');
  });

  it.each(['', 'two words', 'tab\there', 'ünïcode'])('refuses the unusable token %j', (token) => {
    expect(() => resolveServeAuth({ host: '127.0.0.1', token })).toThrowError(expect.objectContaining({ code: 'E_SERVE_AUTH' }));
  });
});

describe('tokenMatches', () => {
  it('accepts only the exact token, whatever the lengths', () => {
    expect(tokenMatches('s3cret', 's3cret')).toBe(true);
    expect(tokenMatches('s3cre', 's3cret')).toBe(false);
    expect(tokenMatches('s3cretX', 's3cret')).toBe(false);
    expect(tokenMatches('S3cret', 's3cret')).toBe(false);
    expect(tokenMatches('', 's3cret')).toBe(false);
  });
});
