// The browser-mode access token: random, unguessable, compared in constant
// time (hashing first gives both sides the same length, so the comparison
// leaks neither the token nor its length).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function makeToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The per-run path segment the app is served under (scopes the token cookie). */
export function makeAppPrefix(): string {
  return randomBytes(12).toString('base64url');
}

export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 256) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Name of the cookie that carries the token for the page's assets and WebSocket. */
export function tokenCookieName(port: number): string {
  // Cookies are per host, not per port: the port keeps two servers apart.
  return `iommuscope_token_${port}`;
}

/** The token from `?token=` or from our cookie, whichever is present. */
export function tokenFromRequest(
  url: URL,
  cookieHeader: string | undefined,
  port: number,
): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  if (!cookieHeader) return undefined;
  const name = tokenCookieName(port);
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
