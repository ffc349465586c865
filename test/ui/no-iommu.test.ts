// Browser mode on a machine without a usable /dev/iommu (this one): the app
// still opens on the Host view with a banner that says why, and one click
// starts a simulated session.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  launchBrowser,
  openApp,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  waitConnected,
  type Browser,
  type Serve,
} from './harness';

const skip =
  uiSkipReason() ??
  (existsSync('/dev/iommu') ? '/dev/iommu exists here: the no-IOMMU banner cannot show' : null);
if (skip) console.log(`# ui no-iommu: skipped: ${skip}`);

describe('ui: no usable /dev/iommu', { skip: skip ?? false }, () => {
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

  it('opens on Host with a banner naming the problem', async () => {
    await page.getByTestId('view-host').waitFor();
    const banner = page.getByTestId('iommu-banner');
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? '', /\/dev\/iommu/);
    assert.match((await page.getByTestId('session-summary').textContent()) ?? '', /no session/);
    await screenshot(page, 'no-iommu');
  });

  it('one click starts a simulated session', async () => {
    await page.getByTestId('start-sim').click();
    await page.getByTestId('view-live').waitFor();
    await until('sim session', async () =>
      /^sim/.test(((await page.getByTestId('session-summary').textContent()) ?? '').trim()),
    );
    // The button is gone once a session is open; the reason stays visible.
    assert.equal(await page.getByTestId('start-sim').count(), 0);
    await page.getByTestId('iommu-banner').waitFor();
  });

  it('the banner is one line at 1280x720, can be dismissed, and stays dismissed after a reload', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    const box = await page.getByTestId('iommu-banner').boundingBox();
    assert.ok(box && box.height <= 40, `banner height ${box?.height} px (one line)`);
    await screenshot(page, 'no-iommu-1280x720');
    await page.getByTestId('iommu-banner-dismiss').click();
    assert.equal(await page.getByTestId('iommu-banner').count(), 0);
    await page.reload();
    await waitConnected(page, 30000);
    await page.getByTestId('view-live').waitFor();
    assert.equal(await page.getByTestId('iommu-banner').count(), 0, 'still dismissed');
    await screenshot(page, 'no-iommu-dismissed-1280x720');
  });
});
