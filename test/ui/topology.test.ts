// Browser mode, the Topology view against the simulator: clicking a node of
// the ELK-laid-out SVG graph, as a user would, shows that object in the
// details panel with its links; no drawn edge passes through a node's box.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
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

/** The graph node whose key starts with `prefix`, once drawn. */
function node(page: Page, prefix: string): Locator {
  return page.locator(`[data-testid="topology-node"][data-key^="${prefix}"]`).first();
}

async function clickNode(page: Page, prefix: string, timeout = 10000): Promise<void> {
  await node(page, prefix).waitFor({ timeout });
  await node(page, prefix).click();
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
    await page.getByTestId('topology-node').first().waitFor({ timeout: 20000 });
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
    await clickNode(page, 'hwpt:');
    await until('HWPT details', async () => (await field(page, 'type')) === 'hwpt');
    assert.equal(await field(page, 'kind'), 'paging');
    assert.equal(await field(page, 'iopf'), 'true');
    assert.equal(await field(page, 'state'), 'live');
    const links = (await page.getByTestId('detail-link').allTextContents()).map((t) => t.trim());
    assert.ok(
      links.some((l) => /^hwpt:\d+ —fault→ fault:\d+$/.test(l)),
      `fault link in ${JSON.stringify(links)}`,
    );
    assert.match((await node(page, 'hwpt:').getAttribute('class')) ?? '', /\bselected\b/);
    await screenshot(page, 'topology-selected');
  });

  it('clicking the fault queue node shows the queue id; empty canvas changes nothing', async () => {
    await clickNode(page, 'fault:');
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
    await node(page, 'pasid:2:4').waitFor({ timeout: 30000 });
    await clickNode(page, 'pasid:1:3');
    await until('PASID details', async () => (await field(page, 'type')) === 'pasid');
    const links = (await page.getByTestId('detail-link').allTextContents()).map((t) => t.trim());
    assert.ok(links.includes('dev:1 —pasid→ pasid:1:3'), JSON.stringify(links));
    assert.ok(
      links.some((l) => /^pasid:1:3 —attached→ hwpt:\d+$/.test(l)),
      JSON.stringify(links),
    );
  });

  it('no drawn edge passes through any node box', async () => {
    const drawn = await page.getByTestId('topology-svg').evaluate((svg) => {
      interface El {
        getAttribute(name: string): string | null;
      }
      const root = svg as unknown as { querySelectorAll(sel: string): Iterable<El> };
      const q = (sel: string): El[] => [...root.querySelectorAll(sel)];
      const boxes = q('[data-testid="topology-node"]').map((g) => {
        const [x, y, w, h] = (g.getAttribute('data-box') ?? '').split(',').map(Number);
        return { key: g.getAttribute('data-key') ?? '', x: x!, y: y!, w: w!, h: h! };
      });
      const edges = q('[data-testid="topology-edge"]').map((e) => ({
        name: `${e.getAttribute('data-from')}→${e.getAttribute('data-to')}`,
        points: (e.getAttribute('points') ?? '')
          .split(' ')
          .map((p: string) => p.split(',').map(Number) as [number, number]),
      }));
      return { boxes, edges };
    });
    assert.ok(
      drawn.boxes.length >= 13 && drawn.edges.length >= 12,
      JSON.stringify(drawn).slice(0, 200),
    );
    const bad: string[] = [];
    for (const e of drawn.edges) {
      for (const b of drawn.boxes) {
        // Sample each segment; a point strictly inside the box (1 px in) is a crossing.
        const inside = (x: number, y: number) =>
          x > b.x + 1 && x < b.x + b.w - 1 && y > b.y + 1 && y < b.y + b.h - 1;
        for (let i = 1; i < e.points.length; i++) {
          const [ax, ay] = e.points[i - 1]!;
          const [bx, by] = e.points[i]!;
          let hit = false;
          for (let t = 0; t <= 1 && !hit; t += 1 / 200)
            hit = inside(ax + (bx - ax) * t, ay + (by - ay) * t);
          if (hit) {
            bad.push(`${e.name} through ${b.key}`);
            break;
          }
        }
      }
    }
    assert.deepEqual(bad, [], 'edges through node boxes');
  });
});
