// Browser mode, the Activity view on a stream recorded from iommuscope-capture
// in the 7.3 VM (edu DMA to an unmapped IOVA, bind + 200 map/unmap pairs
// through iommufd, unbind), replayed into the real core with
// `serve --activity-replay`: the decoded fault with its walk, the filters,
// the rates, and the click-through to the device in the Host view. Without
// --activity the view says how to turn it on.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  gotoTab,
  launchBrowser,
  openApp,
  repoRoot,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui activity: skipped: ${skip}`);
const STREAM = path.join(
  repoRoot,
  'test',
  'fixtures',
  'activity',
  'kernel-7.3',
  'capture-stream.bin',
);

describe('ui: Activity view on a recorded capture stream', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    serve = await startServe(['--activity-replay', STREAM]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('shows the edu DMA fault decoded: device, group, access, address, reason', async () => {
    await gotoTab(page, 'Activity');
    const row = page.getByTestId('activity-fault').first();
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /dmar0/);
    assert.match(text, /0000:00:05\.0/);
    assert.match(text, /read/);
    assert.match(text, /0x5550000/);
    assert.match(text, /0x6 PTE Read access is not set/);
    assert.equal(await page.getByTestId('activity-fault').count(), 1);
  });

  it('the detail pane shows the table walk down to the missing level', async () => {
    await page.getByTestId('activity-fault').first().click();
    const walk = page.getByTestId('activity-walk');
    await walk.waitFor();
    const items = await walk.locator('li').allTextContents();
    assert.equal(items.length, 13);
    assert.match(items[0]!, /^root/);
    assert.match(items[3]!, /pgtt=second-level/);
    assert.match(items.at(-1)!, /not-present L2/);
    await screenshot(page, 'activity-fault');
  });

  it('rates show the replayed maps and dmar0; filters narrow the log', async () => {
    await until('map total', async () =>
      /map 200 · unmap 200/.test((await page.getByTestId('activity-totals').textContent()) ?? ''),
    );
    await page.locator('[data-testid="activity-units"] tr[data-unit="dmar0"]').waitFor();
    await page.getByTestId('activity-filter-device').fill('0000:00:06.0');
    await until(
      'filtered out',
      async () => (await page.getByTestId('activity-fault').count()) === 0,
    );
    await page.getByTestId('activity-filter-device').fill('00:05.0');
    await until(
      'filtered in',
      async () => (await page.getByTestId('activity-fault').count()) === 1,
    );
    await page.getByTestId('activity-filter-reason').selectOption('PTE Read access is not set');
    assert.equal(await page.getByTestId('activity-fault').count(), 1);
  });

  it('clicking the device opens it in the Host view', async () => {
    await page.getByTestId('activity-device').first().click();
    await page.getByTestId('view-host').waitFor();
    assert.equal(await page.getByTestId('host-search').inputValue(), '0000:00:05.0');
    assert.match(page.url(), /device=0000%3A00%3A05\.0/, 'the device pane is asked for');
  });

  it('the Host view shows the device fault count and opens the log filtered to it', async () => {
    const badge = page.locator(
      '[data-testid="host-device"][data-address="0000:00:05.0"] [data-testid="host-device-faults"]',
    );
    if (
      (await page.locator('[data-testid="host-device"][data-address="0000:00:05.0"]').count()) === 0
    ) {
      console.log(
        '# ui activity: this machine has no 0000:00:05.0 in its topology: the badge step is not checked',
      );
      return;
    }
    await badge.waitFor();
    assert.match((await badge.textContent()) ?? '', /1 DMA fault/);
    assert.match(
      (await badge.getAttribute('title')) ?? '',
      /PTE Read access is not set at 0x5550000/,
    );
    await badge.click();
    await page.getByTestId('view-activity').waitFor();
    assert.equal(await page.getByTestId('activity-filter-device').inputValue(), '0000:00:05.0');
  });
});

describe('ui: Activity view without --activity', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    serve = await startServe([]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('says it is off and how to turn it on', async () => {
    await gotoTab(page, 'Activity');
    const off = page.getByTestId('activity-off');
    await off.waitFor();
    assert.match((await off.textContent()) ?? '', /--activity/);
  });
});
