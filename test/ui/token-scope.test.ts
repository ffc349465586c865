// Browsers scope cookies by host, not by port: a token cookie with Path=/
// would go to every server on 127.0.0.1. The app is served under a random
// per-run path and its cookie is scoped to it. Proved with a second local
// HTTP server that records every request it gets from the same browser.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  launchBrowser,
  openApp,
  startServe,
  uiSkipReason,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason() ?? undefined;
let serve: Serve;
let browser: Browser;
let other: http.Server;
let otherPort = 0;
const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];

before(async () => {
  if (skip) return;
  other = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>another local server</p>');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherPort = (other.address() as AddressInfo).port;
  serve = await startServe(['--source', 'sim', '--policy', 'hold']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  other?.close();
});

function leaks(): string[] {
  return seen
    .filter((r) => JSON.stringify(r).includes(serve.token))
    .map((r) => `${r.url} ${JSON.stringify(r.headers)}`);
}

test('the token cookie is scoped to the app path of this run', { skip }, async () => {
  await openApp(browser, serve.url);
  const app = new URL(serve.url).pathname;
  const cookies = await browser.context.cookies(`http://127.0.0.1:${serve.port}${app}`);
  const ours = cookies.find((c) => c.value === serve.token);
  assert.ok(ours, 'the page set its token cookie');
  assert.equal(ours.path, app, 'Path is the random app path');
  assert.equal(ours.httpOnly, true);
});

test('another local server gets no token from the same browser', { skip }, async () => {
  const page = await browser.context.newPage();
  for (const p of ['/', '/assets/index.js', '/ws', '/index.html']) {
    await page.goto(`http://127.0.0.1:${otherPort}${p}`);
  }
  await page.close();
  assert.ok(seen.length >= 4, 'the second server was reached');
  assert.deepEqual(leaks(), [], 'no request to the other server carried the token');
  assert.ok(
    seen.every((r) => r.headers.cookie === undefined || !r.headers.cookie.includes('iommuscope')),
    'no iommuscope cookie at all',
  );
});

test(
  'a page of the app cannot send the token to another local server (CSP)',
  { skip },
  async () => {
    const page = await openApp(browser, serve.url);
    const before = seen.length;
    const outcome = await page.evaluate(async (port) => {
      const results: string[] = [];
      try {
        await fetch(`http://127.0.0.1:${port}/fetch`, { credentials: 'include' });
        results.push('fetch went out');
      } catch {
        results.push('fetch refused');
      }
      // No DOM types in the test build: the page's document, typed by hand.
      const doc = (
        globalThis as unknown as {
          document: {
            createElement(t: string): { src: string };
            body: { append(n: unknown): void };
          };
        }
      ).document;
      const img = doc.createElement('img');
      img.src = `http://127.0.0.1:${port}/img`;
      doc.body.append(img);
      await new Promise((r) => setTimeout(r, 500));
      return results;
    }, otherPort);
    assert.deepEqual(outcome, ['fetch refused']);
    assert.equal(seen.length, before, 'nothing reached the other server');
    assert.deepEqual(leaks(), []);
  },
);
