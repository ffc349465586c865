// Browser mode, the fault table's sort, column widths and colouring rules:
// sorting by latency (in the core) puts the slowest answer first and `j`
// walks the sorted order; the selection and cursor keep their groups
// through a sort; a third click goes back to group order. Dragging a column
// edge resizes it (persisted across a reload), double-click fits it. A
// colouring rule colours exactly the rows it matches, first rule wins, the
// toggle turns colouring off, a bad expression shows its caret error, and
// the rules survive a reload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  faultRow,
  gotoTab,
  launchBrowser,
  openApp,
  openFaultsWithPending,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  waitConnected,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui faults-sort-colour: skipped: ${skip}`);

const GROUPS = 12;

function rowOfGroup(page: Page, group: string) {
  return page.locator(`[data-testid="fault-row"][data-group="${group}"]`);
}

async function cursorGroup(page: Page): Promise<string | null> {
  return page.locator('[data-testid="fault-row"].cursor').getAttribute('data-group');
}

async function groupsInOrder(page: Page): Promise<string[]> {
  const rows = await page
    .getByTestId('fault-row')
    .evaluateAll((els) =>
      els.map((e) => [Number(e.getAttribute('data-pos')), e.getAttribute('data-group') ?? '']),
    );
  return rows.sort((a, b) => (a[0] as number) - (b[0] as number)).map((r) => r[1] as string);
}

function header(page: Page, col: string) {
  return page.locator(`[data-testid="col-header"][data-col="${col}"]`);
}

async function headerWidth(page: Page, col: string): Promise<number> {
  return Math.round((await header(page, col).boundingBox())!.width);
}

describe('ui: fault table sort, column widths, colouring rules', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    serve = await startServe([
      '--source',
      'sim',
      '--inject',
      `count=${GROUPS * 2},pasids=1-3,devices=2,group=2,perm=rw`,
    ]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await openFaultsWithPending(page, GROUPS);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('sort by latency: the slowest answer first, j walks the sorted order', async () => {
    // Step: answer #6, then (later, so slower) #3; the rest stay pending.
    const g6 = rowOfGroup(page, '6');
    await g6.click();
    await page.keyboard.press('s');
    await until('#6 answered', async () => (await g6.getAttribute('data-state')) === 'success');
    await new Promise((r) => setTimeout(r, 400));
    const g3 = rowOfGroup(page, '3');
    await g3.click();
    await page.keyboard.press('s');
    await until('#3 answered', async () => (await g3.getAttribute('data-state')) === 'success');
    // Step: select #9 (x), cursor on #10: both must keep their groups through the sort.
    await rowOfGroup(page, '9').click();
    await page.keyboard.press('x');
    await rowOfGroup(page, '10').click();

    // Step: latency ascending, then descending.
    await header(page, 'latency').click();
    assert.equal(await header(page, 'latency').getAttribute('aria-sort'), 'ascending');
    await header(page, 'latency').click();
    assert.equal(await header(page, 'latency').getAttribute('aria-sort'), 'descending');
    assert.equal(
      (await header(page, 'latency').getByTestId('sort-indicator').textContent())?.trim(),
      '▼',
    );
    await until('sorted by latency desc', async () => {
      const order = await groupsInOrder(page);
      return order[0] === '3' && order[1] === '6' && order.length === GROUPS;
    });
    // Pending rows (no latency) after the answered ones, in group order (the tiebreak).
    assert.deepEqual((await groupsInOrder(page)).slice(2), [
      '1',
      '2',
      '4',
      '5',
      '7',
      '8',
      '9',
      '10',
      '11',
      '12',
    ]);
    assert.match((await page.getByTestId('sort-chip').textContent()) ?? '', /latency ▼/);
    await until('cursor still on #10', async () => (await cursorGroup(page)) === '10');
    assert.ok(
      await rowOfGroup(page, '9').evaluate((e) => e.classList.contains('selected')),
      '#9 is still selected',
    );
    await page.keyboard.press('Escape');

    // Step: from the top, j goes #3 → #6 → #1 (the sorted order, not group order).
    await faultRow(page, 0).click();
    assert.equal(await cursorGroup(page), '3');
    await page.keyboard.press('j');
    await until('j → #6', async () => (await cursorGroup(page)) === '6');
    await page.keyboard.press('j');
    await until('j → #1', async () => (await cursorGroup(page)) === '1');
    await screenshot(page, 'faults-sorted-latency');

    // Negative: a third click is group order again, the cursor stays on #1.
    await header(page, 'latency').click();
    assert.equal(await header(page, 'latency').getAttribute('aria-sort'), 'none');
    await until('group order', async () => (await groupsInOrder(page))[0] === '1');
    assert.equal(await page.getByTestId('sort-chip').count(), 0);
    assert.equal(await cursorGroup(page), '1');
  });

  it('sort by group descending from the chip-less header; the chip clears it', async () => {
    await header(page, 'group').click();
    await header(page, 'group').click();
    await until('group desc', async () => (await groupsInOrder(page))[0] === String(GROUPS));
    await page.getByTestId('sort-clear').click();
    await until('group asc', async () => (await groupsInOrder(page))[0] === '1');
  });

  it('drag a column edge: wider, rows follow, kept after a reload; double-click fits it', async () => {
    const before = await headerWidth(page, 'addr');
    const handle = header(page, 'addr').getByTestId('col-resize');
    const box = (await handle.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 80, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const wider = await headerWidth(page, 'addr');
    assert.ok(Math.abs(wider - before - 78) <= 3, `dragged ${before} → ${wider}`);
    const cell = faultRow(page, 0).locator('[data-col="addr"]');
    assert.equal(Math.round((await cell.boundingBox())!.width), wider, 'the rows follow');
    assert.equal(await header(page, 'addr').getAttribute('aria-sort'), 'none', 'no sort');
    // Negative: dragging far left stops at the minimum width.
    const b2 = (await handle.boundingBox())!;
    await page.mouse.move(b2.x + 2, b2.y + 5);
    await page.mouse.down();
    await page.mouse.move(b2.x - 600, b2.y + 5, { steps: 3 });
    await page.mouse.up();
    assert.equal(await headerWidth(page, 'addr'), 28, 'minimum width');
    await page.mouse.move(b2.x - 400, b2.y + 5);
    // Step: double-click fits the widest address on screen (not cut, not much wider).
    await handle.dblclick();
    const fitted = await headerWidth(page, 'addr');
    assert.ok(fitted > 60 && fitted < before + 40, `fitted to ${fitted}`);
    const cut = await cell.evaluate((e) => e.scrollWidth > e.clientWidth);
    assert.equal(cut, false, 'the fitted column does not cut the address');
    await page.reload();
    await waitConnected(page);
    await gotoTab(page, 'Faults');
    await faultRow(page, 0).waitFor();
    assert.equal(await headerWidth(page, 'addr'), fitted, 'width kept across a reload');
  });

  it('colouring rules: default pending colour; a new first rule wins; toggle; bad text; reload', async () => {
    const ruleOf = (pos: number) => faultRow(page, pos).getAttribute('data-rule');
    // Default rules: #1 pending, #3 answered (success, by user) matches none.
    assert.equal(await rowOfGroup(page, '1').getAttribute('data-rule'), 'pending');
    assert.equal(await rowOfGroup(page, '3').getAttribute('data-rule'), '');

    // Step: add "dev two" = dev == 2, move it first, colour #00ff00.
    await page.getByTestId('colour-rules-open').click();
    const dialog = page.getByTestId('colour-rules-dialog');
    await dialog.waitFor();
    await page.getByTestId('colour-rule-add').click();
    const rule = page.getByTestId('colour-rule').last();
    await rule.getByTestId('colour-rule-name').fill('dev two');
    await rule.getByTestId('colour-rule-name').press('Tab');
    // Negative: a bad expression shows where it is wrong and cannot be applied.
    await rule.getByTestId('filter-text').fill('dev == ');
    await rule.getByTestId('filter-error').waitFor();
    assert.ok(await rule.getByTestId('filter-text-apply').isDisabled());
    await rule.getByTestId('filter-text').fill('dev == 2');
    await rule.getByTestId('filter-text').press('Enter');
    await rule.getByTestId('colour-rule-colour').fill('#00ff00');
    const mine = page.locator('[data-testid="colour-rule"][data-name="dev two"]');
    for (let k = 0; k < 3; k++) await mine.getByTitle('Earlier').click();
    assert.equal(
      await page.getByTestId('colour-rule').first().getAttribute('data-name'),
      'dev two',
    );
    await page.getByTestId('colour-rules-close').click();

    // Every dev 2 row is "dev two" (green), every other row keeps its default rule.
    await until('dev 2 rows coloured', async () => {
      for (let pos = 0; pos < GROUPS; pos++) {
        const dev = (await faultRow(page, pos).locator('[data-col="dev"]').textContent())?.trim();
        const state = await faultRow(page, pos).getAttribute('data-state');
        const want = dev === '2' ? 'dev two' : state === 'pending' ? 'pending' : '';
        if ((await ruleOf(pos)) !== want) return false;
      }
      return true;
    });
    const dev2 = page.locator('[data-testid="fault-row"][data-rule="dev two"]').first();
    // Not the cursor row: its own highlight wins over a rule's colour.
    await page.keyboard.press('Escape');
    const bg = await dev2.evaluate(
      (e) =>
        (
          globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
        ).getComputedStyle(e).backgroundColor,
    );
    const isCursor = await dev2.evaluate((e) => e.classList.contains('cursor'));
    if (!isCursor) assert.equal(bg, 'rgb(0, 255, 0)');
    await screenshot(page, 'faults-colour-rules');

    // Negative: the toggle turns every colour off.
    await page.getByTestId('colour-toggle').uncheck();
    await until('no colours', async () => (await ruleOf(0)) === '' && (await ruleOf(1)) === '');
    await page.getByTestId('colour-toggle').check();

    // The rules are kept across a reload.
    await page.reload();
    await waitConnected(page);
    await gotoTab(page, 'Faults');
    await faultRow(page, 0).waitFor();
    await until(
      'dev two after reload',
      async () =>
        (await page.locator('[data-testid="fault-row"][data-rule="dev two"]').count()) > 0,
    );
    assert.deepEqual(pageErrors, []);
  });
});
