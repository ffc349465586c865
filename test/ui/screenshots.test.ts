// Browser mode, every view at 1600x1000 and 1280x720 against a live
// simulator session (held page requests), the hand-made capability sysfs
// tree and a recorded Activity stream: each view is shown in its busiest
// state (Faults with the detail pane open, Host with the device pane open,
// Topology with an object selected), saved to test-artifacts/ui/views-*.png,
// and checked for console errors and for content cut horizontally.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  faultRow,
  gotoTab,
  launchBrowser,
  openApp,
  pendingInPage,
  repoRoot,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui screenshots: skipped: ${skip}`);

const SYSFS = path.join(repoRoot, 'test', 'fixtures', 'sysfs-caps');
const STREAM = path.join(
  repoRoot,
  'test',
  'fixtures',
  'activity',
  'kernel-7.3',
  'capture-stream.bin',
);
const SIZES = [
  { width: 1600, height: 1000 },
  { width: 1280, height: 720 },
];

/**
 * What is cut horizontally in the main area: elements whose visible part
 * (clipped by their scrolling or clipping ancestors) runs past the
 * viewport's right edge, and clipping containers whose content is wider than
 * they are (reachable only by scrolling sideways). Text cut on purpose with
 * an ellipsis is not counted: the ellipsis says so.
 */
async function horizontalCuts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    interface Rect {
      left: number;
      right: number;
      width: number;
      height: number;
    }
    interface El {
      tagName: string;
      id: string;
      className: unknown;
      parentElement: El | null;
      scrollWidth: number;
      clientWidth: number;
      getAttribute(n: string): string | null;
      getBoundingClientRect(): Rect;
    }
    const g = globalThis as unknown as {
      document: {
        documentElement: { clientWidth: number; scrollWidth: number };
        querySelector(s: string): { querySelectorAll(s: string): Iterable<El> } | null;
      };
      getComputedStyle(e: El): {
        overflowX: string;
        textOverflow: string;
        visibility: string;
        display: string;
      };
    };
    const doc = g.document;
    const vw = doc.documentElement.clientWidth;
    const out: string[] = [];
    if (doc.documentElement.scrollWidth > vw + 1)
      out.push(`the page scrolls sideways: ${doc.documentElement.scrollWidth} > ${vw}`);
    const main = doc.querySelector('main');
    if (!main) return ['no <main>'];
    const name = (e: El): string => {
      const id = e.getAttribute('data-testid');
      const cls =
        typeof e.className === 'string' && e.className ? `.${e.className.split(' ')[0]}` : '';
      return `${e.tagName.toLowerCase()}${id ? `[${id}]` : cls}`;
    };
    const clips = (e: El): boolean => g.getComputedStyle(e).overflowX !== 'visible';
    // The main area's ancestors clip too: content pushed out of <main> is cut there.
    const ancestors: El[] = [];
    for (let a: El | null = main as unknown as El; a; a = a.parentElement) ancestors.push(a);
    for (const e of [...ancestors, ...main.querySelectorAll('*')]) {
      const style = g.getComputedStyle(e);
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      let right = r.right;
      let left = r.left;
      for (let a = e.parentElement; a; a = a.parentElement) {
        if (!clips(a)) continue;
        const ar = a.getBoundingClientRect();
        right = Math.min(right, ar.right);
        left = Math.max(left, ar.left);
      }
      if (right > left && right > vw + 1)
        out.push(`${name(e)} runs past the viewport: right ${Math.round(right)} > ${vw}`);
      const tag = e.tagName.toLowerCase();
      if (
        clips(e) &&
        style.textOverflow !== 'ellipsis' &&
        tag !== 'svg' &&
        tag !== 'canvas' &&
        e.scrollWidth > e.clientWidth + 1
      )
        out.push(`${name(e)} cuts its content: ${e.scrollWidth} px wide in ${e.clientWidth} px`);
    }
    return [...new Set(out)];
  });
}

describe('ui: every view at 1600x1000 and 1280x720', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    serve = await startServe([
      '--source',
      'sim',
      '--sysfs-root',
      SYSFS,
      '--activity-replay',
      STREAM,
      '--inject',
      'count=40,pasids=0-3,devices=2,group=2',
    ]);
    browser = await launchBrowser();
    const first = browser.context.pages()[0] ?? (await browser.context.newPage());
    first.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    first.on('pageerror', (err) => consoleErrors.push(err.message));
    page = await openApp(browser, serve.url);
    await until('20 pending groups', async () => (await pendingInPage(page)) === 20);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  /** Screenshot, then: no console error so far, nothing cut sideways. */
  async function check(view: string, size: { width: number; height: number }): Promise<void> {
    const file = await screenshot(page, `views-${view}-${size.width}x${size.height}`);
    assert.deepEqual(consoleErrors, [], `console errors on ${view} (${file})`);
    const at = `${size.width}x${size.height}`;
    assert.deepEqual(await horizontalCuts(page), [], `${view} at ${at} (${file})`);
  }

  for (const size of SIZES) {
    const at = `${size.width}x${size.height}`;

    it(`${at}: Live`, async () => {
      await page.setViewportSize(size);
      await gotoTab(page, 'Live');
      for (const id of ['chart-device', 'chart-pasid', 'chart-latency'])
        await page.getByTestId(id).locator('canvas').first().waitFor();
      await page.waitForTimeout(1200); // a few frames drawn at this size
      await check('live', size);
    });

    it(`${at}: Faults with the detail pane open`, async () => {
      await gotoTab(page, 'Faults');
      await until(
        'rows loaded',
        async () => (await faultRow(page, 3).getAttribute('data-state')) === 'pending',
      );
      await faultRow(page, 3).click();
      await page.keyboard.press('Enter');
      await page.getByTestId('fault-detail').waitFor();
      await page.getByTestId('detail-raw').first().waitFor();
      await check('faults-detail', size);
      await page.getByTestId('detail-close').click();
    });

    it(`${at}: Session`, async () => {
      await gotoTab(page, 'Session');
      await page.getByTestId('session-state').waitFor();
      await check('session', size);
    });

    it(`${at}: Host with the device pane open`, async () => {
      await gotoTab(page, 'Host');
      await page.locator('[data-testid="host-device"][data-address="0000:02:00.0"]').click();
      await page.getByTestId('host-device-pane').waitFor();
      await page.getByTestId('pane-capability').first().waitFor();
      await check('host-device', size);
      await page.getByTestId('host-pane-close').click();
    });

    it(`${at}: Topology with the fault queue selected`, async () => {
      await gotoTab(page, 'Topology');
      const fault = page.locator('[data-testid="topology-node"][data-key^="fault:"]');
      await fault.waitFor({ timeout: 20000 });
      await fault.click();
      await until(
        'queue depth in the details',
        async () =>
          ((await page.locator('[data-field="pending"] td').nth(1).textContent()) ?? '').trim() ===
          '20',
      );
      await check('topology', size);
    });

    it(`${at}: Events`, async () => {
      await gotoTab(page, 'Events');
      await page.getByTestId('view-events').waitFor();
      await page.getByTestId('events-read').waitFor();
      await check('events', size);
    });

    it(`${at}: Activity`, async () => {
      await gotoTab(page, 'Activity');
      await page.getByTestId('activity-fault').first().waitFor();
      await check('activity', size);
    });
  }

  it('the cut check itself: a too-wide element in a scroll box and one past the viewport are caught', async () => {
    await page.evaluate(() => {
      interface Node {
        id: string;
        innerHTML: string;
        style: { cssText: string };
        append(...n: Node[]): void;
      }
      const doc = (
        globalThis as unknown as {
          document: { createElement(t: string): Node; querySelector(s: string): Node };
        }
      ).document;
      const box = doc.createElement('div');
      box.id = 'cut-probe';
      box.style.cssText = 'overflow:auto;width:200px;position:absolute;top:0;left:0';
      box.innerHTML = '<div style="width:900px;height:10px"></div>';
      const wide = doc.createElement('div');
      wide.id = 'cut-probe-2';
      wide.style.cssText = 'position:absolute;top:0;left:200px;width:4000px;height:10px';
      doc.querySelector('main').append(box, wide);
    });
    const cuts = await horizontalCuts(page);
    await page.evaluate(() => {
      const doc = (
        globalThis as unknown as {
          document: { getElementById(id: string): { remove(): void } | null };
        }
      ).document;
      doc.getElementById('cut-probe')?.remove();
      doc.getElementById('cut-probe-2')?.remove();
    });
    assert.ok(
      cuts.some((c) => /cuts its content: 900 px wide in 200 px/.test(c)),
      cuts.join('; '),
    );
    assert.ok(
      cuts.some((c) => /^main\.view cuts its content: 4\d{3} px wide/.test(c)),
      cuts.join('; '),
    );
  });
});
