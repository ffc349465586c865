// GET /metrics: the Prometheus exposition of a core's registry, for a
// scraper holding the token as `Authorization: Bearer TOKEN` (Prometheus:
// `authorization: { credentials_file: ... }` in the scrape config). The
// dashboard server and the agent both answer /metrics through this.
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { tokenMatches } from '../server/token';

export const METRICS_PATH = '/metrics';

export function bearerToken(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m ? m[1] : undefined;
}

/**
 * Answers `req` when it is for /metrics (returns true), else returns false
 * and leaves it to the caller. Never accepts the token in the URL or a
 * cookie: scrape configs send a header, and a URL token would end up in logs.
 */
export function serveMetrics(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
  token: string,
  registry: Registry,
  headers: Record<string, string> = {},
): boolean {
  if (pathname !== METRICS_PATH) return false;
  const text = (status: number, body: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
    res.end(body);
  };
  if (!tokenMatches(bearerToken(req), token)) {
    text(
      401,
      'Unauthorized: send the token as "Authorization: Bearer TOKEN" ' +
        '(Prometheus: authorization: { credentials_file: FILE } in the scrape config)\n',
      { 'WWW-Authenticate': 'Bearer realm="iommuscope"' },
    );
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    text(405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
    return true;
  }
  registry.metrics().then(
    (body) => {
      res.writeHead(200, {
        ...headers,
        'Content-Type': registry.contentType,
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (err: unknown) =>
      text(500, `metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
  );
  return true;
}
