// Browser mode, the notice tray: answering many groups must not bury the
// Faults view under toasts. At most 4 notices show, the rest collapse into
// "+N more"; info notices go away by themselves, errors stay until
// dismissed; the tray never covers the action buttons or the detail pane.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import {
  faultRow,
  launchBrowser,
  openApp,
  openFaultsWithPending,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui notices: skipped: ${skip}`);

const GROUPS = 12;

async function box(l: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await l.boundingBox();
  assert.ok(b, 'element is visible');
  return b;
}

function overlaps(
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe('ui: notices', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const notices = () => page.getByTestId('notice');

  before(async () => {
    serve = await startServe([
      '--source',
      'sim',
      '--inject',
      `count=${GROUPS},devices=2,group=1,perm=r`,
    ]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    await openFaultsWithPending(page, GROUPS);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('shows at most 4 notices and collapses the rest into "+N more"', async () => {
    // step: six answers, six info notices
    for (let pos = 0; pos < 6; pos++) {
      await faultRow(page, pos).click();
      await page.keyboard.press('s');
      await until(`row ${pos} answered`, async () => {
        return (await faultRow(page, pos).getAttribute('data-state')) === 'success';
      });
    }
    await until('6 notices, 4 shown', async () => (await notices().count()) === 4);
    assert.equal((await page.getByTestId('notices-more').textContent())?.trim(), '+2 more');

    // step: answering five answered groups again fails: 3 named errors and one "2 more"
    await page.keyboard.press('Escape');
    for (let pos = 0; pos < 5; pos++) await faultRow(page, pos).getByTestId('row-select').click();
    await page.getByTestId('answer-invalid').click();
    await until(
      '4 errors shown',
      async () => (await notices().and(page.locator('[data-level="error"]')).count()) === 4,
    );
    assert.equal(await notices().count(), 4);
    assert.match((await notices().last().textContent()) ?? '', /2 more answers failed/);
    // 6 infos + 4 errors, less any info that already timed out on a slow machine.
    const more = /^\+(\d+) more$/.exec(
      (await page.getByTestId('notices-more').textContent())?.trim() ?? '',
    );
    assert.ok(more && Number(more[1]) >= 3, 'older notices collapse into +N more');

    // step: "+N more" shows every notice, "Show fewer" folds them again
    await page.getByTestId('notices-more').click();
    assert.equal(await notices().count(), Number(more[1]) + 4);
    await page.getByTestId('notices-more').click();
    assert.equal(await notices().count(), 4);
  });

  it('never covers the action buttons or the detail pane', async () => {
    await page.keyboard.press('Escape');
    await faultRow(page, 8).click();
    await page.keyboard.press('Enter');
    await page.getByTestId('fault-detail').waitFor();
    const tray = await box(page.getByTestId('notices'));
    for (const id of ['answer-success', 'answer-invalid', 'drain', 'fault-detail']) {
      assert.equal(overlaps(tray, await box(page.getByTestId(id))), false, `tray covers ${id}`);
    }
    for (let i = 0; i < (await notices().count()); i++) {
      const n = await box(notices().nth(i));
      assert.equal(overlaps(n, await box(page.getByTestId('fault-detail'))), false);
    }
    await screenshot(page, 'notices');
  });

  it('info notices go away by themselves; errors stay until dismissed', async () => {
    await until(
      'info notices gone',
      async () => (await page.getByTestId('notices-more').count()) === 0,
      9000,
    );
    assert.equal(await notices().count(), 4);
    assert.deepEqual(
      await notices().evaluateAll((els) => els.map((e) => e.getAttribute('data-level'))),
      ['error', 'error', 'error', 'error'],
    );
    await page.waitForTimeout(1000);
    assert.equal(await notices().count(), 4, 'errors do not time out');

    await notices().first().getByTestId('notice-dismiss').click();
    assert.equal(await notices().count(), 3);
    await page.getByTestId('notices').getByTestId('notice-dismiss').first().click();
    assert.equal(await notices().count(), 2);
  });
});
