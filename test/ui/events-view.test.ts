// The Events view and the Session view's vEVENTQ panel against a real
// `serve` outside the VM (no vIOMMU here, so no vEVENTQ source can open: the
// rows themselves are tested on fake frames in test/unit/vevent-table.test.ts
// and end to end in test/vm/vevent-watch.test.ts): the tab exists and says
// nothing is open with the read/lost counters at 0; the panel checks depth
// and virt id locally, and without /dev/iommu it says the selftest mock is
// not available and keeps Set up disabled; nothing can be triggered.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  gotoTab,
  launchBrowser,
  openApp,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui events view: skipped: ${skip}`);

describe('ui: Events view and the vEVENTQ panel', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    serve = await startServe(['--source', 'sim']);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('the Events tab says no vEVENTQ source is open, with read and lost at 0', async () => {
    await gotoTab(page, 'Events');
    const view = page.getByTestId('view-events');
    await until('the Events view', async () => (await view.count()) === 1);
    assert.match(await view.innerText(), /No vEVENTQ source is open/);
    assert.equal((await page.getByTestId('events-read').innerText()).trim(), 'read 0');
    assert.match(await page.getByTestId('events-lost').innerText(), /lost 0 \(0 LOST_EVENTS\)/);
    assert.equal(await page.getByTestId('events-row').count(), 0);
    await screenshot(page, 'events-empty');
  });

  it('negative: the panel refuses depth 0 and virt id 0 locally; Set up stays disabled', async () => {
    await gotoTab(page, 'Session');
    const panel = page.getByTestId('vevent-panel');
    await until('the vEVENTQ panel', async () => (await panel.count()) === 1);
    await page.getByTestId('vevent-depth').fill('0');
    await until('the depth problem', async () =>
      /depth must be 1\.\.524288/.test(await panel.innerText()),
    );
    assert.equal(await page.getByTestId('vevent-open').isDisabled(), true);
    await page.getByTestId('vevent-depth').fill('8');
    await page.getByTestId('vevent-virt-id').fill('0');
    await until('the virt id problem', async () =>
      /the selftest mock takes virt id 1\.\.0xffffffff/.test(await panel.innerText()),
    );
    await page.getByTestId('vevent-virt-id').fill('0x1');
    if (existsSync('/dev/iommu')) {
      console.log('# this host has /dev/iommu: the mock-unavailable message is not checked');
    } else {
      // No /dev/iommu: the mock is unavailable, the panel says so, Set up stays disabled.
      await until('the mock-unavailable reason', async () =>
        /selftest mock device is not available/.test(await panel.innerText()),
      );
      assert.equal(await page.getByTestId('vevent-open').isDisabled(), true);
    }
    assert.equal(await page.getByTestId('vevent-trigger').isDisabled(), true, 'nothing to trigger');
    await screenshot(page, 'events-session-panel');
  });
});
