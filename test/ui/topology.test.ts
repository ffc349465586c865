// Browser mode, the Topology view against the simulator: clicking a node of
// the graph (its pixel position asked from the ECharts instance, as a user
// would click it) shows that object in the details panel with its links.
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
if (skip) console.log(`# ui topology: skipped: ${skip}`);

/** Page coordinates of the graph node whose id starts with `prefix`, or null. */
async function nodePoint(page: Page, prefix: string): Promise<{ x: number; y: number } | null> {
  const graph = page.getByTestId('topology-graph');
  const box = await graph.boundingBox();
  if (!box) return null;
  const at = await graph.evaluate((el, prefix) => {
    interface Chart {
      getOption(): { series: { data: { id: string; x: number; y: number }[] }[] };
      convertToPixel(finder: { seriesIndex: number }, value: number[]): number[];
    }
    const chart = (el as unknown as { __echarts?: Chart }).__echarts;
    const node = chart?.getOption().series[0]?.data.find((d) => d.id.startsWith(prefix));
    return chart && node ? chart.convertToPixel({ seriesIndex: 0 }, [node.x, node.y]) : null;
  }, prefix);
  return at ? { x: box.x + at[0]!, y: box.y + at[1]! } : null;
}

async function field(page: Page, name: string): Promise<string> {
  const row = page.locator(`[data-testid="detail-field"][data-field="${name}"] td`).nth(1);
  return ((await row.textContent()) ?? '').trim();
}

describe('ui: topology', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    // 8 held groups on 2 devices, PASIDs 1-4: the sim attaches those PASIDs.
    serve = await startServe(['--source', 'sim', '--inject', 'count=8,pasids=1-4,devices=2']);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    await gotoTab(page, 'Topology');
    await page.getByTestId('topology-graph').locator('canvas').first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('says what to do before anything is clicked', async () => {
    assert.match(
      (await page.getByTestId('topology-detail').textContent()) ?? '',
      /Click an object in the graph/,
    );
  });

  it('clicking the HWPT node shows its kind, iopf and its fault queue link', async () => {
    const at = (await until('HWPT node drawn', () => nodePoint(page, 'hwpt:')))!;
    await page.mouse.click(at.x, at.y);
    await until('HWPT details', async () => (await field(page, 'type')) === 'hwpt');
    assert.equal(await field(page, 'kind'), 'paging');
    assert.equal(await field(page, 'iopf'), 'true');
    assert.equal(await field(page, 'state'), 'live');
    const links = (await page.getByTestId('detail-link').allTextContents()).map((t) => t.trim());
    assert.ok(
      links.some((l) => /^hwpt:\d+ —fault→ fault:\d+$/.test(l)),
      `fault link in ${JSON.stringify(links)}`,
    );
    await page.waitForTimeout(600); // the selection border redraws at most every 450 ms
    await screenshot(page, 'topology-selected');
  });

  it('clicking the fault queue node shows the queue id; empty canvas changes nothing', async () => {
    const at = (await until('fault node drawn', () => nodePoint(page, 'fault:')))!;
    await page.mouse.click(at.x, at.y);
    await until('fault details', async () => (await field(page, 'type')) === 'fault');
    assert.match(await field(page, 'id'), /^\d+$/);
    assert.equal(await field(page, 'key'), `fault:${await field(page, 'id')}`);

    // A click beside every node keeps the selection.
    const box = (await page.getByTestId('topology-graph').boundingBox())!;
    await page.mouse.click(box.x + 10, box.y + box.height - 10);
    await page.waitForTimeout(200);
    assert.equal(await field(page, 'type'), 'fault');
  });

  it("the fault queue's details show its depth (pending groups) and counts", async () => {
    await until('pending in details', async () => (await field(page, 'pending')) === '8', 30000);
    assert.equal(await field(page, 'read'), '8');
    assert.equal(await field(page, 'answered'), '0');
    await screenshot(page, 'topology-fault-queue');
  });

  it("the simulator's PASID attachments are in the graph: device → PASID → HWPT", async () => {
    await until('PASID node drawn', () => nodePoint(page, 'pasid:2:4'), 30000);
    const at = (await nodePoint(page, 'pasid:1:3'))!;
    await page.mouse.click(at.x, at.y);
    await until('PASID details', async () => (await field(page, 'type')) === 'pasid');
    const links = (await page.getByTestId('detail-link').allTextContents()).map((t) => t.trim());
    assert.ok(links.includes('dev:1 —pasid→ pasid:1:3'), JSON.stringify(links));
    assert.ok(
      links.some((l) => /^pasid:1:3 —attached→ hwpt:\d+$/.test(l)),
      JSON.stringify(links),
    );
  });

  it('no edge crosses the fault-queue node', async () => {
    const crossing = await page.getByTestId('topology-graph').evaluate((el) => {
      interface Opt {
        series: {
          data: { id: string; x: number; y: number; symbolSize: number[] }[];
          links: { source: string; target: string }[];
        }[];
      }
      const chart = (
        el as unknown as {
          __echarts: { getOption(): Opt; convertToPixel(f: object, v: number[]): number[] };
        }
      ).__echarts;
      const s = chart.getOption().series[0]!;
      const px = new Map(
        s.data.map((d) => [d.id, chart.convertToPixel({ seriesIndex: 0 }, [d.x, d.y])]),
      );
      const fault = s.data.find((d) => d.id.startsWith('fault:'))!;
      const [fx, fy] = px.get(fault.id)!;
      const [w, h] = fault.symbolSize;
      const inBox = (x: number, y: number): boolean =>
        Math.abs(x - fx!) <= w! / 2 && Math.abs(y - fy!) <= h! / 2;
      const bad: string[] = [];
      for (const l of s.links) {
        if (l.source === fault.id || l.target === fault.id) continue;
        const [ax, ay] = px.get(l.source)!;
        const [bx, by] = px.get(l.target)!;
        for (let i = 0; i <= 200; i++) {
          const t = i / 200;
          if (inBox(ax! + (bx! - ax!) * t, ay! + (by! - ay!) * t)) {
            bad.push(`${l.source}→${l.target}`);
            break;
          }
        }
      }
      return bad;
    });
    assert.deepEqual(crossing, [], 'edges through the fault queue node');
  });
});
