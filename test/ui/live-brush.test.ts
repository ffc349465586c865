// Browser mode, the Live rate charts as a way into the Faults table: a
// range brushed on the device chart filters the table to groups read then
// (a chip shows it and clears it), a click on a series filters it to that
// device, and hovering one rate chart shows the same time on the other.
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
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui live brush: skipped: ${skip}`);

type Chart = {
  getOption(): {
    series?: ({ id: string; data: number[] } | null)[];
    xAxis?: { data?: string[] }[];
  };
  convertToPixel(finder: object, value: unknown): number | number[];
};

/** Page pixels of chart `testid` at category `index` and value `value` of series `seriesIndex`. */
async function pixelAt(
  page: Page,
  testid: string,
  index: number,
  value: number,
  seriesIndex = 0,
): Promise<{ x: number; y: number }> {
  const el = page.getByTestId(testid);
  const box = (await el.boundingBox())!;
  const [x, y] = await el.evaluate(
    (e, a) => {
      const c = (e as unknown as { __echarts: Chart }).__echarts;
      return c.convertToPixel({ seriesIndex: a.seriesIndex }, [a.index, a.value]) as number[];
    },
    { index, value, seriesIndex },
  );
  return { x: box.x + x!, y: box.y + y! };
}

async function seriesOf(page: Page, testid: string) {
  return page.getByTestId(testid).evaluate((e) => {
    const o = (e as unknown as { __echarts: Chart }).__echarts.getOption();
    return {
      x: o.xAxis?.[0]?.data ?? [],
      series: (o.series ?? []).filter((s): s is { id: string; data: number[] } => s !== null),
    };
  });
}

/** 'm:ss.mmm' → ms. */
function sessionMs(text: string): number {
  const [m, s] = text.trim().split(':');
  return Number(m) * 60000 + Number(s) * 1000;
}

async function tooltipShown(page: Page, testid: string): Promise<boolean> {
  return page.getByTestId(testid).evaluate((e) =>
    [...e.querySelectorAll('div')].some((d) => {
      const st = (d as unknown as { style: { display: string; opacity: string } }).style;
      return /\/s/.test(d.textContent ?? '') && st.display !== 'none' && st.opacity !== '0';
    }),
  );
}

describe('ui: Live charts filter the Faults table', { skip: skip ?? false }, () => {
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
      'count=10000000,rate=100,pasids=1-2,devices=2',
    ]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await gotoTab(page, 'Live');
    await until(
      'both devices charted over 8 points',
      async () => {
        const d = await seriesOf(page, 'chart-device');
        const dev1 = d.series.find((s) => s.id === 'dev:1');
        return d.x.length >= 10 && dev1 && Number(dev1.data.at(-2)) > 0;
      },
      30_000,
    );
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('hovering the device chart shows the same time on the PASID chart', async () => {
    const d = await seriesOf(page, 'chart-device');
    const at = await pixelAt(page, 'chart-device', d.x.length - 3, 1);
    await page.mouse.move(at.x, at.y);
    await until('device tooltip', () => tooltipShown(page, 'chart-device'), 4000);
    await until('linked PASID tooltip', () => tooltipShown(page, 'chart-pasid'), 4000);
    await page.mouse.move(5, 5);
  });

  it('brushing a range filters Faults to the groups read then; the chip clears it', async () => {
    const d = await seriesOf(page, 'chart-device');
    const n = d.x.length;
    const from = await pixelAt(page, 'chart-device', n - 6, 0);
    const to = await pixelAt(page, 'chart-device', n - 4, 0);
    const y = from.y - 30;
    await page.mouse.move(from.x, y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, y, { steps: 4 });
    await page.mouse.move(to.x, y, { steps: 4 });
    await page.mouse.up();
    await page.getByTestId('view-faults').waitFor({ timeout: 5000 });
    const chip = page.getByTestId('time-chip');
    await chip.waitFor();
    const m = /read (\d+:\d\d\.\d{3}) – (\d+:\d\d\.\d{3})/.exec(await chip.innerText());
    assert.ok(m, await chip.innerText());
    const [lo, hi] = [sessionMs(m[1]!), sessionMs(m[2]!)];
    assert.ok(hi - lo >= 1500 && hi - lo <= 4500, `about 3 buckets: ${m[1]} – ${m[2]}`);
    await until('rows', async () => (await page.getByTestId('fault-row').count()) > 0);
    const times = await page
      .locator('[data-testid="fault-row"] [data-col="time"]')
      .evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    for (const t of times) {
      const ms = sessionMs(t);
      assert.ok(ms >= lo && ms <= hi, `row read at ${t} is inside ${m[1]} – ${m[2]}`);
    }
    await screenshot(page, 'faults-brushed-range');
    // Negative: without the range the table holds groups read outside it too.
    const inRange = Number(
      /([\d,]+) matching/
        .exec(await page.getByTestId('fault-summary').innerText())![1]!
        .replace(/,/g, ''),
    );
    await page.getByTestId('time-chip-clear').click();
    assert.equal(await chip.count(), 0);
    await until('more rows without the range', async () => {
      const s = await page.getByTestId('fault-summary').innerText();
      const all = /([\d,]+) groups/.exec(s);
      return all !== null && Number(all[1]!.replace(/,/g, '')) > inRange;
    });
  });

  it('a click on a series filters Faults to that device', async () => {
    await gotoTab(page, 'Live');
    const d = await seriesOf(page, 'chart-device');
    const k = d.series.findIndex((s) => s.id === 'dev:2');
    assert.ok(k >= 0);
    const idx = d.x.length - 3;
    const below = d.series.slice(0, k).reduce((a, s) => a + Number(s.data[idx] ?? 0), 0);
    const own = Number(d.series[k]!.data[idx]);
    assert.ok(own > 0, 'dev 2 has a rate there');
    const at = await pixelAt(page, 'chart-device', idx, below + own / 2, k);
    await page.mouse.click(at.x, at.y);
    await page.getByTestId('view-faults').waitFor({ timeout: 5000 });
    assert.equal(await page.getByTestId('filter-text').inputValue(), 'dev == 2');
    // The table re-renders as the filtered page arrives: wait for it, not for any rows.
    let devs: string[] = [];
    await until('rows of dev 2 only', async () => {
      devs = await page
        .locator('[data-testid="fault-row"] [data-col="dev"]')
        .evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
      return devs.length > 0 && devs.every((v) => v === '2');
    }).catch((err: Error) => {
      throw new Error(`${err.message}; dev column: ${devs.join(',')}`);
    });
    assert.deepEqual(pageErrors, []);
  });
});
