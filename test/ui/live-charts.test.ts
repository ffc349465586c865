// The Live charts with many series (8 devices x 64 PASIDs, far more than the
// 12 a chart shows): no ECharts error, one 'other', the PASID chart's stacked
// total equal to the device chart's at every point, still drawn after leaving
// Live and coming back. Then the latency header: units as written ("µs", not
// "ΜS"), and "—" before any answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  artifactsDir,
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
if (skip) console.log(`# ui live charts: skipped: ${skip}`);

interface ChartSeries {
  id: string;
  name: string;
  data: number[];
}

/**
 * The series an EChart element draws now (read from its ECharts instance).
 * getOption() leaves a null where replaceMerge removed a series (ECharts keeps
 * component indices stable), so holes are dropped here.
 */
async function chartSeries(page: Page, testid: string): Promise<ChartSeries[]> {
  return page.getByTestId(testid).evaluate((el) => {
    const chart = (el as unknown as { __echarts?: { getOption(): { series?: unknown[] } } })
      .__echarts;
    return ((chart?.getOption().series ?? []) as (ChartSeries | null)[]).filter(
      (s): s is ChartSeries => s !== null,
    );
  });
}

function stackedTotals(series: ChartSeries[]): number[] {
  const n = Math.max(0, ...series.map((s) => s.data.length));
  const out = new Array<number>(n).fill(0);
  for (const s of series) s.data.forEach((v, i) => (out[i]! += Number(v)));
  return out;
}

describe('ui: Live charts with many series', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    serve = await startServe(['--source', 'sim', '--policy', 'success']);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('the latency header shows "—" before any answer', async () => {
    await gotoTab(page, 'Live');
    const text = await page.getByTestId('latency-quantiles').innerText();
    assert.match(text, /^p50 — · p99 —$/, `before any answer: ${text}`);
  });

  it('8 devices x 64 PASIDs: unique ids, one other, PASID total = device total', async () => {
    await gotoTab(page, 'Session');
    await page.getByTestId('inject-count').fill('100000000');
    await page.getByTestId('inject-rate').fill('5000');
    await page.getByTestId('inject-group').fill('1');
    await page.getByTestId('inject-pasids').fill('1-64');
    await page.getByTestId('inject-devices').fill('8');
    await page.getByTestId('inject-start').click();
    await gotoTab(page, 'Live');
    let seen = '';
    const pasid = await until(
      'more series than the chart shows (an other)',
      async () => {
        const s = await chartSeries(page, 'chart-pasid');
        seen = s.map((x) => x.id).join(',');
        return s.some((x) => x.id === 'other') && s.length >= 13 ? s : null;
      },
      180000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; series: ${seen}`);
    });
    const ids = pasid!.map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length, `unique ids: ${ids.join(', ')}`);
    assert.ok(pasid!.length <= 13, `${pasid!.length} series: 12 + other at most`);
    // A few more chart frames, so series have come and gone in the top list.
    await page.waitForTimeout(4000);
    await page.getByTestId('live-pause').click();
    await page.waitForTimeout(1000); // the last redraw lands (MIN_REDRAW_MS)
    const dev = stackedTotals(await chartSeries(page, 'chart-device'));
    const pas = stackedTotals(await chartSeries(page, 'chart-pasid'));
    assert.equal(pas.length, dev.length);
    assert.ok(
      dev.some((v) => v > 0),
      'the device chart has a rate',
    );
    for (let i = 0; i < dev.length; i++) {
      assert.ok(
        Math.abs(pas[i]! - dev[i]!) < 1e-6,
        `point ${i}: PASID stack ${pas[i]}/s vs device stack ${dev[i]}/s`,
      );
    }
    await screenshot(page, 'live-many-pasids');
    await page.getByTestId('live-pause').click();
  });

  it('after leaving Live and coming back the charts are drawn again, without console errors', async () => {
    await gotoTab(page, 'Host');
    await gotoTab(page, 'Live');
    await until(
      'the PASID chart redrawn',
      async () => (await chartSeries(page, 'chart-pasid')).length >= 13,
      30000,
    );
    assert.deepEqual(consoleErrors, [], 'no console errors');
  });

  it('the latency header keeps its units (µs, ms), not upper-cased', async () => {
    const text = await until(
      'quantiles after answers',
      async () => {
        const t = await page.getByTestId('latency-quantiles').innerText();
        return /p50 [\d.]+ (µs|ms|s) · p99 [\d.]+ (µs|ms|s)/.test(t) ? t : null;
      },
      30000,
    );
    assert.doesNotMatch(text!, /ΜS|MS|P50/, `rendered text: ${text}`);
    await page
      .getByTestId('latency-quantiles')
      .screenshot({ path: `${artifactsDir}/live-latency-header.png` });
  });
});
