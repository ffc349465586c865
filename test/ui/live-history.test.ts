// Browser mode, the Live windows past 10 minutes: 30 min / 1 h / 6 h / 24 h
// are offered and drawn from the core's rate archive (rates.history), and
// after a reload the chosen window and its history are still there (the
// renderer keeps none of it). The short windows still come from frames.
import assert from 'node:assert/strict';
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
  waitConnected,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui live history: skipped: ${skip}`);

interface ChartSeries {
  id: string;
  data: number[];
}

async function chartData(
  page: Page,
  testid: string,
): Promise<{ x: string[]; series: ChartSeries[] }> {
  return page.getByTestId(testid).evaluate((el) => {
    const chart = (
      el as unknown as {
        __echarts?: { getOption(): { series?: unknown[]; xAxis?: { data?: string[] }[] } };
      }
    ).__echarts;
    const o = chart?.getOption();
    return {
      x: o?.xAxis?.[0]?.data ?? [],
      series: ((o?.series ?? []) as (ChartSeries | null)[]).filter(
        (s): s is ChartSeries => s !== null,
      ),
    };
  });
}

async function total(page: Page, testid: string): Promise<number> {
  const d = await chartData(page, testid);
  return d.series.reduce((sum, s) => sum + s.data.reduce((a, v) => a + Number(v), 0), 0);
}

describe('ui: Live history beyond 10 minutes, kept in the core', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    serve = await startServe([
      '--source',
      'sim',
      '--policy',
      'success',
      '--inject',
      'count=10000000,rate=200,pasids=1-2,devices=2',
    ]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await gotoTab(page, 'Live');
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('the window select offers 30 min, 1 h, 6 h and 24 h', async () => {
    const options = await page
      .getByTestId('live-window')
      .locator('option')
      .evaluateAll((els) => els.map((e) => e.getAttribute('value')));
    for (const s of ['60', '600', '1800', '3600', '21600', '86400']) {
      assert.ok(options.includes(s), `${s} s offered (${options.join(', ')})`);
    }
  });

  it('30 min is drawn from the core: every point 10 s wide, rates present', async () => {
    await until('rates in the 60 s window', async () => (await total(page, 'chart-device')) > 0);
    await page.getByTestId('live-window').selectOption('1800');
    await page.getByTestId('live-archive-note').waitFor();
    // Wait until the first 10 s bucket is complete, then the archive has it;
    // until the chart redraws (at most twice a second) it still shows the 60 s window.
    const labelSeconds = (x: string[]) =>
      x.map((t) => t.split(':').reduce((a, p) => a * 60 + Number(p), 0));
    let shown: string[] = [];
    await until(
      '30 min chart with rates, in 10 s points',
      async () => {
        shown = (await chartData(page, 'chart-device')).x;
        const secs = labelSeconds(shown);
        return (
          secs.length >= 1 &&
          secs.every((t) => t % 10 === 0) &&
          (await total(page, 'chart-device')) > 0 &&
          (await total(page, 'chart-pasid')) > 0
        );
      },
      25_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; x axis: ${shown.join(' ')}`);
    });
    const d = await chartData(page, 'chart-device');
    const secs = labelSeconds(d.x);
    for (let i = 1; i < secs.length; i++) assert.equal(secs[i]! - secs[i - 1]!, 10);
    assert.ok(d.series.some((s) => s.id === 'dev:1') && d.series.some((s) => s.id === 'dev:2'));
    assert.match(
      await page.getByTestId('live-archive-note').innerText(),
      /from the core's history/,
    );
    await screenshot(page, 'live-30min');
  });

  it('after a reload the 30 min window and its history are still there', async () => {
    const before = await total(page, 'chart-device');
    assert.ok(before > 0);
    await page.reload();
    await waitConnected(page);
    await gotoTab(page, 'Live');
    assert.equal(await page.getByTestId('live-window').inputValue(), '1800', 'window kept');
    // Straight from the core: no need to wait for new frames to fill it.
    await until(
      'history after reload',
      async () => (await total(page, 'chart-device')) >= before,
      8000,
    );
  });

  it('24 h is drawn from the core too; back to 60 s the frames draw again', async () => {
    await page.getByTestId('live-window').selectOption('86400');
    await until('24 h chart', async () => (await total(page, 'chart-device')) > 0, 15_000);
    await page.getByTestId('live-window').selectOption('60');
    await until('60 s from frames', async () => {
      const d = await chartData(page, 'chart-device');
      return (
        d.x.length >= 2 &&
        d.x.length <= 60 &&
        (await page.getByTestId('live-archive-note').count()) === 0
      );
    });
  });

  it('10 min after a reload: rates older than the frames carry (59 s) come back from the core', async () => {
    await page.getByTestId('live-window').selectOption('600');
    const seconds = (label: string): number =>
      label.split(':').reduce((a, p) => a * 60 + Number(p), 0);
    // Wait until the session is past 75 s, so the oldest rates are beyond any frame.
    await until(
      'session past 75 s',
      async () => {
        const x = (await chartData(page, 'chart-device')).x;
        return x.length > 0 && seconds(x.at(-1)!) >= 75;
      },
      90_000,
    );
    await page.reload();
    await waitConnected(page);
    await gotoTab(page, 'Live');
    await until(
      'rates older than 60 s',
      async () => {
        // The session's first seconds: 65 s and more before the reload, beyond any frame.
        const d = await chartData(page, 'chart-device');
        if (d.x.length < 75) return false;
        return d.series.some((s) => s.data.slice(2, 10).some((v) => Number(v) > 0));
      },
      8000,
    );
    assert.deepEqual(pageErrors, []);
  });
});
