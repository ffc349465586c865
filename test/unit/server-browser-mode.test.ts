// `iommuscope serve` as a user runs it: a real process, real HTTP and a real
// WebSocket. Token on page and upgrade, security headers, traversal, bad
// messages, reconnect + resync, several clients, and the drain on SIGINT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import {
  MAX_MESSAGE_BYTES,
  type EventEnvelope,
  type FaultRow,
  type ResponseEnvelope,
} from '../../main/common/contract';
import { until } from '../shared/until';
import { cliEntry } from '../shared/cli-entry';

const root = path.resolve(__dirname, '..', '..', '..');
// Runs on the built addon, or on the TypeScript fake queue until it has the contract.
const skip: string | undefined = undefined;
const rendererBuilt = existsSync(path.join(root, 'dist', 'renderer', 'index.html'));

let proc: ChildProcess;
let base: URL;
let token: string;
const stdoutLines: string[] = [];
let stderr = '';
let exited: Promise<number | null>;

before(async () => {
  if (skip) return;
  proc = spawn(
    process.execPath,
    [
      cliEntry(),
      'serve',
      '--port',
      '0',
      '--source',
      'sim',
      '--inject',
      'count=30,devices=2,pasids=1-3',
      '--policy',
      'hold',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const rl = createInterface({ input: proc.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    proc.once('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  rl.on('line', (l) => stdoutLines.push(l));
  base = new URL(first);
  token = base.searchParams.get('token')!;
});

after(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
});

function get(
  pathAndQuery: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path: pathAndQuery, headers },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The status line of a raw request (no client-side URL normalisation). */
function rawStatus(requestPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(base.port), base.hostname, () => {
      s.write(`GET ${requestPath} HTTP/1.1\r\nHost: ${base.host}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0)));
    s.on('error', reject);
  });
}

class Client {
  readonly events: EventEnvelope[] = [];
  private readonly waiting = new Map<number, (r: ResponseEnvelope) => void>();
  readonly errors: ResponseEnvelope[] = [];
  private id = 1;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as ResponseEnvelope | EventEnvelope;
      if ('event' in msg) this.events.push(msg);
      else if (this.waiting.has(msg.id)) {
        this.waiting.get(msg.id)!(msg);
        this.waiting.delete(msg.id);
      } else this.errors.push(msg);
    });
  }
  static open(query = `token=${token}`, headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(`ws://${base.host}/ws?${query}`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }
  request(method: string, params?: unknown): Promise<ResponseEnvelope> {
    const id = this.id++;
    this.ws.send(JSON.stringify({ id, method, ...(params !== undefined ? { params } : {}) }));
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
  async result<T>(method: string, params?: unknown): Promise<T> {
    const r = await this.request(method, params);
    if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
    return r.result as T;
  }
  /** The next error response that carries no request id. */
  nextUnmatched(): Promise<ResponseEnvelope> {
    return until('an error response', () => this.errors.shift());
  }
  close(): void {
    this.ws.terminate();
  }
}

test(
  'the first stdout line is the loopback URL with a 32-character token, under a random path',
  { skip },
  () => {
    assert.equal(base.hostname, '127.0.0.1');
    assert.match(token, /^[A-Za-z0-9_-]{32}$/);
    assert.match(base.pathname, /^\/[A-Za-z0-9_-]{16}\/$/);
  },
);

test(
  'HTTP: missing or wrong token → 401 page naming the URL to open; with it → 200 with security headers',
  { skip },
  async () => {
    const wrong = `${token.slice(1)}x`;
    const cases: [string, Record<string, string>, 'missing' | 'wrong'][] = [
      ['/', {}, 'missing'],
      ['/?token=', {}, 'missing'],
      ['/index.html', {}, 'missing'],
      ['/assets/', {}, 'missing'],
      [`/?token=${wrong}`, {}, 'wrong'],
      ['/', { Cookie: `iommuscope_token_${base.port}=${wrong}` }, 'wrong'],
      [base.pathname, {}, 'missing'],
      [`${base.pathname}index.html`, {}, 'missing'],
    ];
    for (const [p, headers, problem] of cases) {
      const r = await get(p, headers);
      assert.equal(r.status, 401, p);
      assert.match(String(r.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.match(r.body, new RegExp(`<h1>Access token ${problem}</h1>`), p);
      assert.match(
        r.body,
        /exact URL\s+that <code>iommuscope serve<\/code> printed on the first line/,
      );
      assert.doesNotMatch(r.body, /<script|\son\w+=/i, 'no script: the CSP applies');
      assert.ok(!r.body.includes(token) && !r.body.includes(wrong), 'no token echoed');
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    }
    // The token at the old place (or any path) leads to the app's path.
    const moved = await get(`/?token=${token}`);
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.location, `${base.pathname}?token=${token}`);
    const page = await get(`${base.pathname}?token=${token}`);
    assert.equal(page.status, rendererBuilt ? 200 : 503);
    const csp = String(page.headers['content-security-policy']);
    assert.equal(
      csp,
      `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws://${base.host}; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`,
    );
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    if (rendererBuilt) {
      assert.match(page.body, /<html/i);
      const setCookie = String(page.headers['set-cookie']);
      const cookie = setCookie.split(';')[0]!;
      assert.match(cookie, new RegExp(`^iommuscope_token_${base.port}=`));
      assert.ok(
        setCookie.includes(`; Path=${base.pathname};`),
        `scoped to the app path: ${setCookie}`,
      );
      // The page's assets load with the cookie alone.
      const rel = /src="\.?\/(assets\/[^"]+\.js)"/.exec(page.body)?.[1];
      assert.ok(rel, 'index.html references a script under assets/');
      const asset = `${base.pathname}${rel}`;
      const js = await get(asset, { Cookie: cookie });
      assert.equal(js.status, 200);
      assert.match(String(js.headers['content-type']), /javascript/);
      assert.equal((await get(asset, { Cookie: `${cookie}x` })).status, 401);
    }
  },
);

test('HTTP: traversal, dot-files and folder listings are refused', { skip }, async () => {
  const q = `token=${token}`;
  const app = base.pathname;
  for (const p of [
    `${app}../package.json?${q}`,
    `${app}..%2f..%2fpackage.json?${q}`,
    `${app}assets/..%2f..%2f..%2fpackage.json?${q}`,
    `${app}%2e%2e/%2e%2e/package.json?${q}`,
    `${app}.env?${q}`,
    `${app}assets/..\\..\\package.json?${q}`,
    `${app}%00?${q}`,
  ]) {
    const status = await rawStatus(p);
    // 302: the URL normalised to a path outside the app, sent back to the app's index.
    assert.ok([302, 400, 403, 404].includes(status), `${p} → ${status}`);
  }
  assert.equal((await get(`${app}assets/?${q}`)).status, 404, 'no directory listing');
  assert.equal((await get(`${app}nope.js?${q}`)).status, 404);
  assert.equal(
    (await get(`${app}?${q}`, { Host: 'evil.example:80' })).status,
    403,
    'DNS rebinding',
  );
});

test('WebSocket: missing/wrong token → 401, foreign Origin → 403', { skip }, async () => {
  await assert.rejects(Client.open(''), /HTTP 401/);
  await assert.rejects(Client.open(`token=${token}A`), /HTTP 401/);
  await assert.rejects(
    Client.open(`token=${token}`, { Origin: 'http://evil.example' }),
    /HTTP 403/,
  );
  const ok = await Client.open(`token=${token}`, { Origin: `http://${base.host}` });
  ok.close();
});

test(
  'WebSocket: malformed, unknown, invalid and oversized messages get errors; the socket keeps working',
  { skip },
  async () => {
    const c = await Client.open();
    try {
      c.ws.send('{not json');
      const parse = await c.nextUnmatched();
      assert.equal(!parse.ok && parse.error.code, 'EPARSE');
      const unknown = await c.request('faults.nuke', {});
      assert.equal(!unknown.ok && unknown.error.code, 'EMETHOD');
      const bad = await c.request('faults.query', { offset: -1, limit: 5 });
      assert.equal(!bad.ok && bad.error.code, 'EPARAMS');
      assert.match(!bad.ok ? bad.error.message : '', /params\.offset/);
      c.ws.send(
        JSON.stringify({
          id: 99,
          method: 'app.info',
          params: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) },
        }),
      );
      const big = await c.nextUnmatched();
      assert.equal(!big.ok && big.error.code, 'ETOOBIG');
      const info = await c.result<{ mode: string }>('app.info', {});
      assert.equal(info.mode, 'browser', 'the same socket still answers');
    } finally {
      c.close();
    }
    // Far past the limit the server closes the socket unread (1009) ...
    const huge = await Client.open();
    const closed = new Promise<number>((resolve) => huge.ws.on('close', (code) => resolve(code)));
    huge.ws.send('x'.repeat(5 * MAX_MESSAGE_BYTES));
    assert.equal(await closed, 1009);
    // ... and the server is fine.
    const again = await Client.open();
    assert.equal((await again.result<{ source: string }>('session.state', {})).source, 'sim');
    again.close();
  },
);

test(
  'a dropped WebSocket loses nothing: reconnect + resync gives the same pending groups',
  { skip },
  async () => {
    const a = await Client.open();
    const pendingOf = async (c: Client) =>
      (
        await c.result<{ total: number; rows: FaultRow[] }>('faults.query', {
          offset: 0,
          limit: 1000,
          filter: { state: 'pending' },
        })
      ).rows.map((r) => r.group);
    const before = await until('30 pending groups', async () => {
      const p = await pendingOf(a);
      return p.length === 30 ? p : undefined;
    });
    a.ws.terminate();
    const b = await Client.open();
    assert.deepEqual(await b.result('stream.resync', {}), { ok: true });
    const names = b.events.map((e) => e.event);
    assert.ok(
      names.includes('session.changed') &&
        names.includes('frame') &&
        names.includes('topology.changed'),
      names.join(),
    );
    const frame = b.events.find((e) => e.event === 'frame')!.payload as {
      totals: { pending: number };
      rates?: unknown;
    };
    assert.equal(frame.totals.pending, 30);
    assert.ok(frame.rates, 'the resync frame carries the charts');
    assert.deepEqual(await pendingOf(b), before);
    b.close();
  },
);

test('several clients each get the frames', { skip }, async () => {
  const clients = await Promise.all([Client.open(), Client.open(), Client.open()]);
  // Answering one group changes the counters: every client sees a frame for it.
  const [first] = clients;
  const rows = await first!.result<{ rows: FaultRow[] }>('faults.query', {
    offset: 0,
    limit: 1,
    filter: { state: 'pending' },
  });
  const r = await first!.result<{ ok: string[] }>('faults.respond', {
    groups: [rows.rows[0]!.group],
    code: 0,
  });
  assert.deepEqual(r.ok, [rows.rows[0]!.group]);
  await Promise.all(
    clients.map((c) =>
      until('a frame with the answer', () =>
        c.events.some(
          (e) =>
            e.event === 'frame' && (e.payload as { answeredByUser: number }).answeredByUser === 1,
        )
          ? true
          : undefined,
      ),
    ),
  );
  clients.forEach((c) => c.close());
});

test(
  'WebSocket: a burst of 2,000 faults.query gets every answer, the excess refused EBUSY',
  { skip },
  async () => {
    const c = await Client.open();
    const answers = await Promise.all(
      Array.from({ length: 2000 }, () => c.request('faults.query', { offset: 0, limit: 1000 })),
    );
    const busy = answers.filter((a) => !a.ok && a.error.code === 'EBUSY');
    const ok = answers.filter((a) => a.ok);
    assert.equal(busy.length + ok.length, 2000, 'every request answered, ok or EBUSY');
    assert.ok(ok.length >= 32, `at least the in-flight budget was served (${ok.length})`);
    assert.ok(busy.length > 0, 'the excess was refused');
    assert.match(
      (busy[0] as { error: { message: string } }).error.message,
      /too many requests in flight \(32 per client\): wait for answers/,
    );
    // Still usable afterwards.
    assert.ok((await c.request('faults.query', { offset: 0, limit: 5 })).ok);
    c.close();
  },
);

test(
  'SIGINT drains every pending group (drain code invalid) and exits 0 with pending 0',
  { skip },
  async () => {
    proc.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdoutLines.at(-1)!) as {
      type: string;
      pending: number;
      answered: number;
      groups: number;
      invalid: number;
      by: { drain: number; user: number };
    };
    assert.equal(summary.type, 'summary');
    assert.equal(summary.pending, 0);
    assert.equal(summary.groups, 30);
    assert.equal(summary.answered, 30);
    assert.equal(summary.by.user, 1);
    assert.equal(summary.by.drain, 29);
    assert.equal(summary.invalid, 29);
    assert.match(stderr, /SIGINT: draining 29 pending group\(s\) as invalid/);
  },
);
