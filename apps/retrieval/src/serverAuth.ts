import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { TesseraError } from '@tessera/core';
import type { MiddlewareHandler } from 'hono';

/** Paths anyone may GET without a token: the liveness probe, and the static page (it holds no data and asks for the token). */
const OPEN_PATHS = new Set(['/health', '/']);

/** Whether `host` names only this machine (127.0.0.0/8, ::1, localhost). `0.0.0.0`, `::` and every other address reach the network. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export interface ServeAuthOptions {
  host: string;
  /** Bearer token from --token or TESSERA_TOKEN. */
  token?: string;
  /** --insecure-no-auth: serve a non-loopback interface without a token, on purpose. */
  insecureNoAuth?: boolean;
}

/**
 * The token a server must require, or null for none. A token is always enforced when given; a
 * non-loopback host without one is refused (E_SERVE_AUTH) unless `insecureNoAuth` says so.
 */
export function resolveServeAuth(options: ServeAuthOptions): string | null {
  const { host, token, insecureNoAuth = false } = options;
  if (token !== undefined) {
    // Header-safe and unambiguous: visible ASCII, no spaces.
    if (!/^[\x21-\x7e]+$/.test(token))
      throw new TesseraError('E_SERVE_AUTH', 'the token must be non-empty visible ASCII without spaces, e.g. `openssl rand -hex 32`');
    return token;
  }
  if (isLoopbackHost(host) || insecureNoAuth) return null;
  throw new TesseraError(
    'E_SERVE_AUTH',
    `refusing to serve ${host} (reachable from other machines) without a token: pass --token <secret> or set TESSERA_TOKEN (e.g. \`openssl rand -hex 32\`), or --insecure-no-auth to serve it open on purpose`,
    { details: { host } },
  );
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Whether `given` equals `expected`, in time independent of where they differ (equal-length digests). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Requires `Authorization: Bearer <token>` on every request except GET of OPEN_PATHS. A missing
 * or wrong token gets 401 JSON `{error: 'unauthorized'}` with `WWW-Authenticate: Bearer`.
 */
export function bearerAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && OPEN_PATHS.has(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match && tokenMatches(match[1] as string, token)) return next();
    const challenge = match ? 'Bearer realm="tessera", error="invalid_token"' : 'Bearer realm="tessera"';
    const message = match
      ? 'the bearer token is wrong'
      : 'this server needs a token: send the header `Authorization: Bearer <token>` (the page asks for it)';
    return c.json({ error: 'unauthorized', message }, 401, { 'www-authenticate': challenge });
  };
}
