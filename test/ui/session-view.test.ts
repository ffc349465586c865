// The Session view against a real `serve --source sim`: the tab and the
// inject form survive a reload (URL hash); "started … ago" ticks; Reopen
// tears the open session down (after a confirmation naming the pending
// count) and opens a new one without an error; Tear down asks first; `map`
// is not accepted for the simulator, with a message saying why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
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
if (skip) console.log(`# ui session view: skipped: ${skip}`);

describe('ui: Session view', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const failedLoads: string[] = [];

  before(async () => {
    // 6 one-page groups, held (the default policy).
    serve = await startServe(['--source', 'sim', '--inject', 'count=6,group=1']);
    browser = await launchBrowser();
    const p0 = browser.context.pages()[0] ?? (await browser.context.newPage());
    p0.on('response', (r) => {
      if (r.status() >= 400) failedLoads.push(`${r.status()} ${r.url()}`);
    });
    page = await openApp(browser, serve.url);
    await until('6 pending groups', async () => (await pendingInPage(page)) === 6, 30000);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('the tab and the inject form survive a reload', async () => {
    await gotoTab(page, 'Session');
    await page.getByTestId('inject-count').fill('77');
    await page.getByTestId('inject-rate').fill('5');
    await until(
      'the URL holds the view state',
      () => /tab=Session/.test(page.url()) && /inject=count%3D77%2Crate%3D5/.test(page.url()),
    );
    assert.match(
      page.url(),
      /\?token=[^#]+#/,
      'the token stays in the query, the state in the hash',
    );
    await page.reload();
    await waitConnected(page, 30000);
    await page.getByTestId('view-session').waitFor({ timeout: 15000 });
    assert.equal(await page.getByTestId('inject-count').inputValue(), '77');
    assert.equal(await page.getByTestId('inject-rate').inputValue(), '5');
    assert.equal(await page.getByTestId('inject-pasids').inputValue(), '0', 'defaults stay');
  });

  it('"started … ago" updates by itself', async () => {
    const first = await page.getByTestId('session-age').innerText();
    const later = await until(
      'the age to move',
      async () => {
        const t = await page.getByTestId('session-age').innerText();
        return t !== first ? t : null;
      },
      15000,
    );
    assert.match(later!, /^started \d+:\d\d ago$/);
  });

  it('map is refused for the simulator, saying why', async () => {
    await page.getByTestId('policy-text').fill('map');
    const why = await page.getByTestId('policy-problem').innerText();
    assert.match(why, /simulator has none/);
    assert.equal(await page.getByTestId('policy-apply').isDisabled(), true);
    assert.equal(await page.getByTestId('session-open').isDisabled(), true);
    await page.getByTestId('policy-text').fill('hold');
  });

  it('Tear down asks first and names the pending count; Cancel keeps the session', async () => {
    await page.getByTestId('session-close').click();
    const text = await page.getByTestId('confirm-text').innerText();
    assert.match(text, /6 pending groups are answered Invalid/);
    await page.getByTestId('confirm-cancel').click();
    assert.equal(await page.getByTestId('confirm-dialog').count(), 0);
    assert.match(await page.getByTestId('session-state').innerText(), /open: sim/);
    assert.equal(await pendingInPage(page), 6, 'nothing was drained');
  });

  it('Reopen tears down (after confirming) and opens a new session, with no error left', async () => {
    const before = await page.getByTestId('session-age').innerText();
    await page.getByTestId('session-open').click();
    const text = await page.getByTestId('confirm-text').innerText();
    assert.match(text, /6 pending groups are answered Invalid .*then a new sim session opens/);
    await screenshot(page, 'session-reopen-confirm');
    await page.getByTestId('confirm-ok').click();
    await until('a new session', async () => (await pendingInPage(page)) === 0, 30000);
    assert.match(await page.getByTestId('session-state').innerText(), /open: sim/);
    const errors = page.locator('[data-testid="notice"]', { hasText: /already open|error/i });
    assert.equal(await errors.count(), 0, 'no error notice');
    assert.notEqual(await page.getByTestId('session-age').innerText(), before);
  });

  it('the top bar shows a rules policy as a summary, the full text on hover', async () => {
    const rules =
      '{ "rules": [ { "match": "dev == 1", "action": "invalid" } ], "default": "hold" }';
    await page.getByTestId('policy-text').fill(rules);
    await page.getByTestId('policy-apply').click();
    const bar = page.getByTestId('session-summary');
    await until('summary', async () => /1 rule, default hold/.test(await bar.innerText()));
    assert.doesNotMatch(await bar.innerText(), /"rules"/);
    assert.match((await bar.getAttribute('title')) ?? '', /"rules"/);
  });

  it('no load fails (no favicon 404), and the 401 page is styled like the app', async () => {
    assert.deepEqual(failedLoads, []);
    const res = await fetch(new URL('/', serve.url).origin + '/');
    assert.equal(res.status, 401);
    const html = await res.text();
    assert.match(html, /background:#14171d/);
    assert.match(html, /iommuscope serve/);
  });

  it('Tear down with Confirm closes the session', async () => {
    await page.getByTestId('session-close').click();
    await page.getByTestId('confirm-ok').click();
    await until(
      'no session',
      async () => /No session is open/.test(await page.getByTestId('session-state').innerText()),
      30000,
    );
    await screenshot(page, 'session-closed');
  });
});
