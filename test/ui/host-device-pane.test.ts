// Browser mode, the Host view's device pane (HostDeviceIommu.vue) on real VM
// captures: the VT-d sysfs with edu bound to vfio-pci (test/fixtures/
// sysfs-vtd-vfio) and the recorded 7.3 capture stream (edu's DMA fault)
// followed by one round of kDebugfs frames made from the 7.3 debugfs read
// during an iommufd attach (test/fixtures/debugfs-vtd-7.3/attached). A click
// on the faulting device in the Activity view selects it in the Host view:
// group, driver, fault and live PASID 0 with its three mapped pages; the
// selection survives a reload (#device=...) and closes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
if (skip) console.log(`# ui host device pane: skipped: ${skip}`);
const FIXTURES = path.join(repoRoot, 'test', 'fixtures');
const EDU = '0000:00:05.0';
const DEBUGFS_TYPE = 8; // kDebugfs, native/capture/frames.h

function frame(file: string, text: string): Buffer {
  const payload = Buffer.from(`${file}\n${text}`);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt16LE(DEBUGFS_TYPE, 4);
  return Buffer.concat([head, payload]);
}

/** The recorded stream, then one helper round of debugfs frames (PASID tables last). */
function streamWithDebugfs(): Buffer {
  const dir = path.join(FIXTURES, 'debugfs-vtd-7.3', 'attached');
  const files = [
    'iommu_regset',
    'invalidation_queue',
    'dmar_perf_latency',
    `${EDU}/domain_translation_struct`,
    'dmar_translation_struct',
  ];
  return Buffer.concat([
    readFileSync(path.join(FIXTURES, 'activity', 'kernel-7.3', 'capture-stream.bin')),
    ...files.map((f) => frame(f, readFileSync(path.join(dir, f), 'utf8'))),
  ]);
}

describe('ui: Host view device pane with debugfs PASID state', { skip: skip ?? false }, () => {
  let work: string;
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const pane = () => page.getByTestId('host-device-pane');

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'iommuscope-pane-'));
    const root = path.join(work, 'sys');
    execFileSync('cp', ['-a', path.join(FIXTURES, 'sysfs-vtd-vfio'), root]);
    const stream = path.join(work, 'stream.bin');
    writeFileSync(stream, streamWithDebugfs());
    serve = await startServe(['--sysfs-root', root, '--activity-replay', stream]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a faulting device clicked in the Activity view is selected in the Host view', async () => {
    await gotoTab(page, 'Activity');
    await page.getByTestId('activity-device').first().click();
    await page.getByTestId('view-host').waitFor();
    await pane().waitFor();
    assert.match(page.url(), /[#&]device=0000%3A00%3A05\.0/);
    assert.match(
      (await page.getByTestId('pane-group').textContent()) ?? '',
      /IOMMU group\s*5 \[DMA\]/,
    );
    assert.match((await page.getByTestId('pane-driver').textContent()) ?? '', /driver\s*vfio-pci/);
    assert.match(
      (await page.getByTestId('pane-faults').textContent()) ?? '',
      /1 DMA fault\(s\)[\s\S]*read 0x5550000[\s\S]*PTE Read access is not set/,
    );
  });

  it('shows edu live PASID 0: second stage, domain 7, three mapped pages', async () => {
    const row = page.getByTestId('pane-pasid');
    await until('the PASID row', async () => (await row.count()) === 1);
    const cells = (await row.locator('td').allTextContents()).map((t) => t.trim());
    assert.deepEqual(
      [cells[0], cells[1], cells[2], cells[4]],
      ['0', 'second-stage', '7', '3 pages'],
    );
    assert.match(cells[3]!, /^0x[0-9a-f]+000$/);
    const title = (await row.locator('td').nth(4).getAttribute('title')) ?? '';
    assert.match(title, /^0x100000 → 0x[0-9a-f]+ rw PTE\n0x200000 → .*\n0x40000000 → /);
    // step: the device row carries the live PASID as a badge
    const badge = page.locator(
      `[data-testid="host-device"][data-address="${EDU}"] [data-testid="host-device-pasid"]`,
    );
    assert.equal((await badge.textContent())?.trim(), 'PASID 0');
    await screenshot(page, 'host-device-pane');
  });

  it('the selection survives a reload and closes', async () => {
    await page.reload();
    await page.getByTestId('view-host').waitFor();
    await pane().waitFor();
    assert.match((await pane().textContent()) ?? '', /0000:00:05\.0/);
    await page.getByTestId('host-pane-close').click();
    await until('the pane closed', async () => (await pane().count()) === 0);
    assert.doesNotMatch(page.url(), /device=/);
    // step: a row click selects again, a second click unselects
    const row = page.locator(`[data-testid="host-device"][data-address="${EDU}"]`);
    await row.click();
    await pane().waitFor();
    await row.click();
    await until('unselected', async () => (await pane().count()) === 0);
  });
});
