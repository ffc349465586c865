// Browser mode, alarms: a pending-groups threshold raises one notice per
// crossing (not one per frame), re-armed once the value is back under it;
// the crossing is marked on the rate charts and a rate threshold is drawn
// as a line; a bad threshold is refused with the reason; thresholds survive
// a reload. Host and activity alarms: a device whose PRI status reads
// Stopped (sysfs-caps fixture) and a replayed DMA fault each raise one notice.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  gotoTab,
  launchBrowser,
  openApp,
  pendingInPage,
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
if (skip) console.log(`# ui alarms: skipped: ${skip}`);

const GROUPS = 40;

type Marked = { markPoint?: { data?: unknown[] }; markLine?: { data?: { yAxis?: number }[] } };

async function firstSeries(page: Page, testid: string): Promise<Marked | null> {
  return page.getByTestId(testid).evaluate((e) => {
    const c = (e as unknown as { __echarts: { getOption(): { series?: (Marked | null)[] } } })
      .__echarts;
    return (c.getOption().series ?? []).find((s) => s !== null) ?? null;
  });
}

async function alarmNotices(page: Page): Promise<string[]> {
  return page
    .getByTestId('notice')
    .evaluateAll((els) => els.map((e) => e.textContent ?? '').filter((t) => /Alarm:/.test(t)));
}

async function setField(page: Page, testid: string, value: string): Promise<void> {
  const f = page.getByTestId(testid);
  await f.fill(value);
  await f.press('Enter');
  await f.blur();
}

describe('ui: alarms on thresholds', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    serve = await startServe(['--source', 'sim', '--inject', `count=${GROUPS}`]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await until(`${GROUPS} pending`, async () => (await pendingInPage(page)) === GROUPS);
    await gotoTab(page, 'Live');
    await page.getByTestId('alarms-menu').locator('summary').click();
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('pending above 10: one notice per crossing, marked on the charts', async () => {
    assert.deepEqual(await alarmNotices(page), [], 'no alarm before a threshold is set');
    await setField(page, 'alarm-pending', '10');
    await until('one alarm', async () => (await alarmNotices(page)).length === 1);
    assert.match((await alarmNotices(page))[0]!, /40 pending groups \(above 10\)/);
    // More frames and another change: the condition still holds, no second notice.
    // The rate threshold is one the 40 requests cannot reach (shortly after the
    // burst the rate window still holds them: 5/s raised its own notice).
    await setField(page, 'alarm-rate', '1000');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await alarmNotices(page)).length, 1, 'once per crossing, not per frame');
    await until('crossing marked on the device chart', async () => {
      const s = await firstSeries(page, 'chart-device');
      return (s?.markPoint?.data?.length ?? 0) >= 1;
    });
    await until('rate threshold drawn', async () => {
      const s = await firstSeries(page, 'chart-device');
      return s?.markLine?.data?.[0]?.yAxis === 1000;
    });
    await screenshot(page, 'live-alarms');
  });

  it('back under the threshold re-arms it; crossing again raises a second notice', async () => {
    await setField(page, 'alarm-pending', '100');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await alarmNotices(page)).length, 1, 'no notice when not crossing');
    await setField(page, 'alarm-pending', '10');
    await until('second alarm', async () => (await alarmNotices(page)).length === 2);
  });

  it('a bad threshold is refused with the reason and changes nothing', async () => {
    await setField(page, 'alarm-pending', 'lots');
    assert.match(await page.getByTestId('alarm-problem').innerText(), /not a number/);
    assert.equal((await alarmNotices(page)).length, 2);
  });

  it('thresholds survive a reload', async () => {
    await page.reload();
    await waitConnected(page);
    await gotoTab(page, 'Live');
    await page.getByTestId('alarms-menu').locator('summary').click();
    assert.equal(await page.getByTestId('alarm-pending').inputValue(), '10');
    assert.equal(await page.getByTestId('alarm-rate').inputValue(), '1000');
    assert.deepEqual(pageErrors, []);
  });
});

describe('ui: alarms on host data and activity', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const fixtures = path.join(repoRoot, 'test', 'fixtures');
    serve = await startServe([
      '--sysfs-root',
      path.join(fixtures, 'sysfs-caps'),
      '--activity-replay',
      path.join(fixtures, 'activity', 'kernel-7.3', 'capture-stream.bin'),
    ]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('PRI Stopped on a host device and a DMA fault: one notice each', async () => {
    await until('PRI Stopped alarm', async () =>
      (await alarmNotices(page)).some((t) => /PRI Stopped on [0-9a-f]{4}:/.test(t)),
    );
    await until('DMA fault alarm', async () =>
      (await alarmNotices(page)).some((t) => /DMA fault.* on 0000:00:05\.0/.test(t)),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const all = await alarmNotices(page);
    assert.equal(all.filter((t) => /PRI Stopped/.test(t)).length, 1, all.join(' | '));
    assert.equal(all.filter((t) => /DMA fault/.test(t)).length, 1, all.join(' | '));
  });
});
