// Browser mode, what must survive: a renderer reload mid-session (pending
// groups come back, none lost, answers kept), a dropped WebSocket
// (reconnect + resync, banner while down), and a token the core no longer
// accepts (a server restarted on the same port) → a clear message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  faultRow,
  gotoTab,
  launchBrowser,
  openApp,
  pendingInPage,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  waitConnected,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui resilience: skipped: ${skip}`);

const GROUPS = 30;

/** Records in the page whether the connection banner ever showed (it may be brief). */
const watchBanner = `(() => {
  window.__bannerSeen = '';
  const obs = new MutationObserver(() => {
    const b = document.querySelector('[data-testid="connection-banner"]');
    if (b) window.__bannerSeen = b.textContent;
  });
  obs.observe(document.body, { childList: true, subtree: true });
})()`;

describe('ui: resilience', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    serve = await startServe(['--source', 'sim', '--inject', `count=${GROUPS},devices=2`]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    await until(`${GROUPS} pending`, async () => (await pendingInPage(page)) === GROUPS);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('a reload mid-session brings every pending group and every answer back', async () => {
    await gotoTab(page, 'Faults');
    await faultRow(page, 0).click();
    await page.keyboard.press('s');
    await page.keyboard.press('j');
    await page.keyboard.press('i');
    await until('2 answered', async () => (await pendingInPage(page)) === GROUPS - 2);

    await page.reload();
    await waitConnected(page);
    await until('pending after reload', async () => (await pendingInPage(page)) === GROUPS - 2);
    await gotoTab(page, 'Faults');
    await until(
      'all rows after reload',
      async () => (await page.locator('[data-testid="fault-row"][data-state]').count()) === GROUPS,
    );
    assert.equal(await faultRow(page, 0).getAttribute('data-by'), 'user');
    assert.equal(await faultRow(page, 0).getAttribute('data-state'), 'success');
    assert.equal(await faultRow(page, 1).getAttribute('data-state'), 'invalid');
    assert.equal(
      await page.locator('[data-testid="fault-row"][data-state="pending"]').count(),
      GROUPS - 2,
    );
  });

  it('a dropped WebSocket reconnects, shows a banner meanwhile and resyncs', async () => {
    await page.evaluate(watchBanner);
    const before = await page.evaluate('window.__iommuscopeFrames');
    await page.evaluate('window.__iommuscopeSocket().close()');
    await until('banner seen', async () => Boolean(await page.evaluate('window.__bannerSeen')));
    assert.match(String(await page.evaluate('window.__bannerSeen')), /Disconnected|Connecting/);
    await waitConnected(page);
    // The resync sends a full frame on the new socket.
    await until(
      'frame after reconnect',
      async () => Number(await page.evaluate('window.__iommuscopeFrames')) > Number(before),
    );
    // The new socket works both ways: an answer goes out and comes back.
    await until(
      'row 2 loaded',
      async () => (await faultRow(page, 2).getAttribute('data-state')) === 'pending',
    );
    await faultRow(page, 2).click();
    await page.keyboard.press('s');
    await until(
      'row 2 answered after reconnect',
      async () => (await faultRow(page, 2).getAttribute('data-by')) === 'user',
    );
    assert.equal(await pendingInPage(page), GROUPS - 3);
  });

  it('a token the core no longer accepts is explained, not retried forever', async () => {
    const port = serve.port;
    const stopped = await serve.stop();
    // Everything pending was drained on the way out (nothing lost).
    const summary = JSON.parse(stopped.stdout.trim().split('\n').pop()!) as { pending: number };
    assert.equal(summary.pending, 0);
    // Same port, new token: the open page's token is now wrong.
    serve = await startServe([], port);
    const banner = page.getByTestId('connection-banner');
    await until(
      'refused banner',
      async () => /Access refused/.test((await banner.textContent({ timeout: 500 })) ?? ''),
      15000,
    );
    assert.match((await banner.textContent()) ?? '', /access token.*iommuscope serve/s);
    await screenshot(page, 'wrong-token');
    // The URL serve printed works.
    await page.goto(serve.url);
    await waitConnected(page);
  });
});
