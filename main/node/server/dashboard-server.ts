// Browser mode: the built renderer over HTTP and the contract over one
// WebSocket per tab (path /ws). Every HTTP request and every upgrade needs
// the token (from ?token= or the cookie set when the page was loaded with
// it); a wrong or missing token gets a 401 with a page saying which URL to
// open (an upgrade gets a bare 401). The Host header must name
// this server (DNS rebinding) and a browser's Origin must be ours.
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES, type EventEnvelope } from '../../common/contract';
import type { CoreService } from '../dashboard/core-service';
import { dispatchText, type RequestContext } from '../dashboard/dispatch';
import { securityHeaders } from './security-headers';
import { resolveStatic } from './static-files';
import { ClientBudget, MAX_BEHIND_BYTES } from './client-limits';
import { makeAppPrefix, tokenCookieName, tokenFromRequest, tokenMatches } from './token';
import { unauthorizedPage } from './unauthorized-page';
import type { Registry } from 'prom-client';
import { serveMetrics } from '../metrics/metrics-route';
import { UPLOAD_ROUTE } from '../../common/replay-contract';
import { receiveUpload } from './upload-route';

export const WS_PATH = '/ws';
/**
 * Frames larger than the contract's limit but below this get an ETOOBIG error
 * and the socket stays; beyond it ws closes the socket (1009) unread.
 */
export const WS_MAX_PAYLOAD = 4 * MAX_MESSAGE_BYTES;
/** Frames are skipped (not queued) for a client this far behind; other events still go. */
const SLOW_CLIENT_BYTES = 8 << 20;
const PING_MS = 30_000;

export interface DashboardServerOptions {
  core: CoreService;
  host: string;
  port: number;
  token: string;
  rendererDir: string;
  /** Serve this registry at /metrics (Bearer token); see metrics/metrics-route.ts. */
  metrics?: Registry;
  log?: (line: string) => void;
  /** The app's path segment; default: random per run. */
  appPrefix?: string;
}

export interface DashboardServer {
  readonly url: string;
  /** '/<prefix>/': the path the app (and its token cookie) lives under. */
  readonly appPath: string;
  readonly port: number;
  /** Connected WebSocket clients. */
  clients(): number;
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const { core, token, rendererDir } = opts;
  const log = opts.log ?? (() => {});
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = hostForUrl(opts.host);
  const wsOrigin = `ws://${urlHost}:${port}`;
  const headers = securityHeaders(wsOrigin);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'];
  const allowedHosts = new Set([`${urlHost}:${port}`, ...loopback.map((h) => `${h}:${port}`)]);
  const allowedOrigins = new Set([...allowedHosts].map((h) => `http://${h}`));
  const cookie = tokenCookieName(port);
  /** '/<random>/': where the app is served this run (the token cookie's Path). */
  const appPath = `/${opts.appPrefix ?? makeAppPrefix()}/`;

  const send = (
    res: http.ServerResponse,
    status: number,
    body: string,
    extra: Record<string, string> = {},
  ): void => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
    res.end(body);
  };

  const authorised = (req: http.IncomingMessage, url: URL): boolean =>
    tokenMatches(tokenFromRequest(url, req.headers.cookie, port), token);

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', `http://${urlHost}:${port}`);
    if (!allowedHosts.has(req.headers.host ?? '')) return send(res, 403, 'Forbidden\n');
    if (opts.metrics && serveMetrics(req, res, url.pathname, token, opts.metrics, headers)) return;
    if (!authorised(req, url)) {
      const given = tokenFromRequest(url, req.headers.cookie, port);
      return send(res, 401, unauthorizedPage(given ? 'wrong' : 'missing'), {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
      });
    }
    if (url.pathname === `${appPath}${UPLOAD_ROUTE}`) {
      if (req.method !== 'POST') return send(res, 405, 'Method Not Allowed\n', { Allow: 'POST' });
      // A browser always sends Origin on a POST: it must be this server (no cross-site posts).
      const origin = req.headers.origin;
      if (origin !== undefined && !allowedOrigins.has(origin)) return send(res, 403, 'Forbidden\n');
      return void receiveUpload(req, url, core.uploads, (status, body) =>
        send(res, status, JSON.stringify(body), {
          'Content-Type': 'application/json; charset=utf-8',
          'Cache-Control': 'no-store',
          ...(status === 200 ? {} : { Connection: 'close' }),
        }),
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
    }
    if (url.pathname === WS_PATH)
      return send(res, 426, 'Upgrade Required\n', { Upgrade: 'websocket' });
    // The app lives under its per-run prefix; anything else (with the token) is sent there.
    if (!url.pathname.startsWith(appPath)) {
      return send(res, 302, 'Found\n', { Location: `${appPath}${url.search}` });
    }
    const found = resolveStatic(rendererDir, url.pathname.slice(appPath.length - 1));
    if (!found.ok) {
      if (found.status === 404 && url.pathname === appPath) {
        return send(
          res,
          503,
          `The renderer is not built (${rendererDir}/index.html is missing): run npm run build\n`,
        );
      }
      return send(res, found.status, `${http.STATUS_CODES[found.status]}\n`);
    }
    const extra: Record<string, string> = {
      'Content-Type': found.type,
      'Content-Length': String(found.size),
      'Cache-Control': found.file.endsWith('.html') ? 'no-store' : 'private, max-age=3600',
    };
    if (url.searchParams.has('token')) {
      // The page was opened with the token: its assets may use the cookie. Browsers send a
      // cookie to every port of the host, so it is scoped to this run's random path: another
      // local server never sees it unless it requests that path, which it cannot know.
      extra['Set-Cookie'] = `${cookie}=${token}; Path=${appPath}; HttpOnly; SameSite=Strict`;
    }
    res.writeHead(200, { ...headers, ...extra });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(found.file)
      .on('error', () => res.destroy())
      .pipe(res);
  });

  const refuse = (socket: Socket, status: number): void => {
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  };

  server.on('upgrade', (req, socket: Socket, head) => {
    const url = new URL(req.url ?? '/', `http://${urlHost}:${port}`);
    if (url.pathname !== WS_PATH) return refuse(socket, 404);
    if (!allowedHosts.has(req.headers.host ?? '')) return refuse(socket, 403);
    if (!authorised(req, url)) return refuse(socket, 401);
    // Browsers always send Origin; it must be this server. Non-browser clients send none.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) return refuse(socket, 403);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  let nextClient = 1;
  wss.on('connection', (ws: WebSocket) => {
    const name = `ws:${nextClient++}`;
    let alive = true;
    const budget = new ClientBudget();
    const sendEnvelope = (env: EventEnvelope | object): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify(env));
    };
    const unsubscribe = core.subscribe((env) => {
      if (env.event === 'frame' && ws.bufferedAmount > SLOW_CLIENT_BYTES) return;
      sendEnvelope(env);
    });
    const ctx: RequestContext = {
      client: name,
      emit: (event, payload) => sendEnvelope({ event, payload }),
    };
    ws.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, PING_MS);
    ping.unref();
    ws.on('message', (data, isBinary) => {
      const text = isBinary
        ? '\u0000binary' // not part of the protocol: dispatch answers it as malformed JSON
        : Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.from(data as ArrayBuffer).toString('utf8');
      if (ws.bufferedAmount > MAX_BEHIND_BYTES) {
        log(`${name}: ${ws.bufferedAmount} bytes behind, disconnected`);
        return ws.close(1008, 'too far behind: answers are not being read');
      }
      const refused = budget.admit(text, ws.bufferedAmount);
      if (refused) return sendEnvelope(refused);
      void dispatchText(core.handlers, text, ctx).then((r) => {
        budget.done();
        sendEnvelope(r);
      });
    });
    ws.on('error', (err) => log(`${name}: ${err.message}`));
    ws.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  });

  return {
    url: `http://${urlHost}:${port}${appPath}?token=${token}`,
    appPath,
    port,
    clients: () => wss.clients.size,
    close: async () => {
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
