// Browser mode, the Host view's device pane and capability search on the
// hand-made capability tree (test/fixtures/sysfs-caps): a click opens the
// lspci -vvv style pane and puts the device in the URL, a reload with that
// URL opens it again, the search finds devices by capability, PRI status
// bit, driver and address with the matches marked, and Close empties the URL.
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
  waitConnected,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui host-pane: skipped: ${skip}`);

const SYSFS = path.join(repoRoot, 'test', 'fixtures', 'sysfs-caps');
const STOPPED = '0000:02:00.0';

const listed = async (page: Page): Promise<string[]> =>
  page
    .getByTestId('host-device')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-address') ?? ''));

describe('ui: Host device pane and capability search', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    serve = await startServe(['--sysfs-root', SYSFS]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    await gotoTab(page, 'Host');
    await page.getByTestId('host-device').first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('no pane until a device is clicked; a click opens it with every decoded part', async () => {
    assert.equal(await page.getByTestId('host-device-pane').count(), 0);
    await page.locator(`[data-testid="host-device"][data-address="${STOPPED}"]`).click();
    const pane = page.getByTestId('host-device-pane');
    await pane.waitFor();
    assert.equal(await pane.getAttribute('data-address'), STOPPED);
    const text = (s: string) => pane.getByTestId(s).textContent();
    assert.match((await text('pane-driver')) ?? '', /vfio-pci/);
    assert.match((await text('pane-group')) ?? '', /12 \[DMA\].*viable for VFIO/);
    assert.match((await text('pane-unit')) ?? '', /ivhd0.*AMD-Vi/);
    assert.match((await text('pane-cdev')) ?? '', /\/dev\/vfio\/devices\/vfio3/);
    assert.match((await text('pane-bridge')) ?? '', /root bus/);
    assert.match((await text('pane-acs')) ?? '', /not supported/);
    // Every PRI status bit of this device is set: the failing ones as warnings.
    const bits = await pane
      .getByTestId('pane-pri-bit')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-bit')}=${e.getAttribute('data-set')}`),
      );
    assert.deepEqual(bits, ['RF=true', 'UPRGI=true', 'Stopped=true', 'PRPR=true']);
    const caps = await pane
      .getByTestId('pane-capability')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-cap')));
    assert.deepEqual(caps, [
      'PCI Express',
      'Address Translation Service',
      'Page Request Interface',
      'Process Address Space ID',
    ]);
    assert.match(
      (await pane.locator('[data-cap="Page Request Interface"]').textContent()) ?? '',
      /RF\+ UPRGI\+ Stopped\+ PASID-required\+/,
    );
    assert.match(page.url(), /#device=0000%3A02%3A00\.0$/);
    await screenshot(page, 'host-device-pane');
  });

  it('a reload with the device in the URL opens the same pane', async () => {
    await page.reload();
    await waitConnected(page);
    await page.getByTestId('host-device-pane').waitFor();
    assert.equal(await page.getByTestId('host-device-pane').getAttribute('data-address'), STOPPED);
  });

  it('a header-only device says its capabilities are unknown, not absent', async () => {
    await page.locator('[data-testid="host-device"][data-address="0000:03:00.0"]').click();
    await until(
      'pane of 03:00.0',
      async () =>
        (await page.getByTestId('host-device-pane').getAttribute('data-address')) ===
        '0000:03:00.0',
    );
    assert.match(
      (await page.getByTestId('pane-caps-unknown').textContent()) ?? '',
      /unknown: only 64 bytes of config space are readable/,
    );
    assert.equal(await page.getByTestId('pane-capability').count(), 0);
  });

  it('search: "PRI stopped", "pasid", a driver, an address; no match says so', async () => {
    const search = page.getByTestId('host-search');
    await search.fill('PRI stopped');
    await until('one device', async () => (await listed(page)).join() === STOPPED);
    // The PRI badge that matched is outlined.
    assert.ok((await page.locator('.badge.hit').count()) >= 1);
    await search.fill('pasid');
    await until(
      'the PASID devices',
      async () =>
        (await listed(page)).join() === '0000:01:00.0,0000:01:00.1,0000:02:00.0,0000:06:00.0',
    );
    await search.fill('nvme');
    await until('the nvme device', async () => (await listed(page)).join() === '0000:03:00.0');
    const marks = await page
      .locator('[data-testid="host-device"] [data-testid="search-hit"]')
      .allTextContents();
    assert.deepEqual(marks, ['NVMe', 'nvme'], 'in the device name and the driver');
    await search.fill('01:00');
    await until(
      'both functions of 01:00',
      async () => (await listed(page)).join() === '0000:01:00.0,0000:01:00.1',
    );
    assert.deepEqual(
      await page
        .locator('[data-testid="host-device"] [data-testid="search-hit"]')
        .allTextContents(),
      ['01:00', '01:00'],
    );
    await search.fill('PRI nosuchthing');
    await until('no device', async () => (await listed(page)).length === 0);
    assert.match(
      (await page.getByTestId('view-host').textContent()) ?? '',
      /No device matches the search/,
    );
    await search.fill('');
  });

  it('Close shuts the pane and takes the device out of the URL', async () => {
    await page.getByTestId('host-pane-close').click();
    assert.equal(await page.getByTestId('host-device-pane').count(), 0);
    assert.doesNotMatch(page.url(), /device=/);
  });
});
