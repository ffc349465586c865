// Browser mode, each view against a real `iommuscope serve` running the
// simulator: the views render their data (screenshots in test-artifacts/ui),
// the host search filters, the session form validates policy and injection
// text locally and drives the core.
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
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui views: skipped: ${skip}`);

describe('ui: views', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    // 60 page requests in groups of 2 on 2 devices and PASIDs 0-3, held (default policy).
    serve = await startServe([
      '--source',
      'sim',
      '--inject',
      'count=60,pasids=0-3,devices=2,group=2',
    ]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    await until('30 pending groups', async () => (await pendingInPage(page)) === 30);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('Host shows the sysfs topology and its search filters devices', async () => {
    await gotoTab(page, 'Host');
    const all = await page.getByTestId('host-device').count();
    await screenshot(page, 'host');
    if (all > 0) {
      const first = await page
        .getByTestId('host-device')
        .first()
        .locator('td')
        .first()
        .textContent();
      await page.getByTestId('host-search').fill(first!.trim());
      await until(
        'search narrows the list',
        async () => (await page.getByTestId('host-device').count()) >= 1,
      );
      assert.ok((await page.getByTestId('host-device').count()) <= all);
      await page.getByTestId('host-search').fill('no-such-device-anywhere');
      await until(
        'no device matches',
        async () => (await page.getByTestId('host-device').count()) === 0,
      );
      await page.getByTestId('host-search').fill('');
    }
    assert.match(
      (await page.getByTestId('view-host').textContent()) ?? '',
      /units? · .* groups? · .* devices?/,
    );
  });

  it('Live shows counters from frames and draws the charts', async () => {
    await gotoTab(page, 'Live');
    assert.equal(
      (await page.getByTestId('count-pending').locator('.value').textContent())?.trim(),
      '30',
    );
    assert.equal(
      (await page.getByTestId('count-faults').locator('.value').textContent())?.trim(),
      '60',
    );
    for (const id of ['chart-device', 'chart-pasid', 'chart-latency']) {
      await page.getByTestId(id).locator('canvas').first().waitFor();
    }
    // Nothing answered yet: the latency chart and the answers bar say so, not "all Invalid".
    assert.match(
      (await page.getByTestId('latency-empty').textContent()) ?? '',
      /No automatic answers yet: the policy holds every group/,
    );
    assert.match(
      (await page.getByTestId('answered-split').locator('.bar').getAttribute('class')) ?? '',
      /\bempty\b/,
    );
    // Pausing stops redraws; the button says how to resume.
    await page.getByTestId('live-pause').click();
    assert.equal((await page.getByTestId('live-pause').textContent())?.trim(), 'Resume charts');
    await page.getByTestId('live-pause').click();
    await page.getByTestId('live-window').selectOption({ label: '2 min' });
    await page.waitForTimeout(1500);
    await screenshot(page, 'live');
  });

  it('Faults lists every group in the virtual table', async () => {
    await gotoTab(page, 'Faults');
    await until(
      '30 rows',
      async () => (await page.locator('[data-testid="fault-row"][data-state]').count()) === 30,
    );
    assert.match((await page.getByTestId('fault-summary').textContent()) ?? '', /30 groups/);
    await page.getByTestId('shortcut-help').waitFor();
    await screenshot(page, 'faults');
  });

  it('Topology draws the session objects', async () => {
    await gotoTab(page, 'Topology');
    await page.getByTestId('topology-node').first().waitFor({ timeout: 20000 });
    assert.match(
      (await page.getByTestId('view-topology').textContent()) ?? '',
      /sim · \d+ objects/,
    );
    await screenshot(page, 'topology');
  });

  it('Session refuses a bad policy locally, and injects and sets a policy through the core', async () => {
    await gotoTab(page, 'Session');
    assert.match((await page.getByTestId('session-state').textContent()) ?? '', /open: sim/);

    // step: a policy the grammar refuses never leaves the page
    await page.getByTestId('policy-text').fill('sometimes');
    await page.getByTestId('policy-problem').waitFor();
    assert.match(
      (await page.getByTestId('policy-problem').textContent()) ?? '',
      /unknown action 'sometimes'/,
    );
    assert.equal(await page.getByTestId('policy-apply').isDisabled(), true);
    await page
      .getByTestId('policy-text')
      .fill('{ "rules": [ { "dev": 9, "bogus": 1, "action": "success" } ] }');
    assert.match(
      (await page.getByTestId('policy-problem').textContent()) ?? '',
      /unknown key 'bogus'/,
    );

    // step: a bad injection spec is named, a good one injects 10 more held groups
    await page.getByTestId('inject-count').fill('lots');
    await page.getByTestId('inject-problem').waitFor();
    assert.equal(await page.getByTestId('inject-start').isDisabled(), true);
    await page.getByTestId('inject-count').fill('10');
    await page.getByTestId('inject-rate').fill('0');
    await page.getByTestId('inject-group').fill('1');
    assert.match((await page.getByTestId('inject-spec').textContent()) ?? '', /^count=10,rate=0,/);
    await page.getByTestId('inject-start').click();
    await until('40 pending groups', async () => (await pendingInPage(page)) === 40);

    // step: valid JSON rules go to the core and come back in the session state
    await page
      .getByTestId('policy-text')
      .fill('{ "rules": [ { "dev": 1, "perm": "w", "action": "invalid" } ], "default": "hold" }');
    assert.equal(await page.getByTestId('policy-problem').count(), 0);
    await page.getByTestId('policy-apply').click();
    await until('policy in session state', async () =>
      /policy .*rules|policy \{/.test(
        (await page.getByTestId('session-state').textContent()) ?? '',
      ),
    );
    await screenshot(page, 'session');
  });
});
