// Browser mode, the Faults view against the simulator with held groups:
// answering with each button and each shortcut (rows then show state and
// "user"), selection, the detail pane's raw bytes, expanded groups, filters
// and drains behind a confirmation dialog; the cursor, selection and answers
// following groups (not positions) under a state=pending filter; two tabs
// answering the same group (ESTALE, naming who answered).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  faultRow,
  launchBrowser,
  openApp,
  openFaultsWithPending,
  pendingInPage,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  waitConnected,
  gotoTab,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui faults: skipped: ${skip}`);

const GROUPS = 24;

async function expectAnswered(page: Page, pos: number, state: string, by: string): Promise<void> {
  await until(`row ${pos} ${state} by ${by}`, async () => {
    const r = faultRow(page, pos);
    return (
      (await r.getAttribute('data-state')) === state && (await r.getAttribute('data-by')) === by
    );
  });
  assert.equal((await faultRow(page, pos).getByTestId('row-by').textContent())?.trim(), by);
  assert.equal((await faultRow(page, pos).getByTestId('row-state').textContent())?.trim(), state);
}

function rowOfGroup(page: Page, group: string) {
  return page.locator(`[data-testid="fault-row"][data-group="${group}"]`);
}

async function groupAt(page: Page, pos: number): Promise<string> {
  return (await faultRow(page, pos).getAttribute('data-group')) ?? '';
}

async function expectGroup(page: Page, group: string, state: string, by: string): Promise<void> {
  await until(`group ${group} ${state} by ${by}`, async () => {
    const r = rowOfGroup(page, group);
    return (
      (await r.getAttribute('data-state')) === state && (await r.getAttribute('data-by')) === by
    );
  });
}

async function applyFilter(page: Page, fields: Record<string, string>): Promise<void> {
  await page.getByTestId('filter-clear').click();
  for (const [id, value] of Object.entries(fields)) {
    if (id === 'filter-state') await page.getByTestId(id).selectOption(value);
    else await page.getByTestId(id).fill(value);
  }
  await page.getByTestId('filter-apply').click();
}

async function visibleRows(page: Page): Promise<{ dev: string; state: string }[]> {
  const rows = page.locator('[data-testid="fault-row"][data-state]');
  const out: { dev: string; state: string }[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    out.push({
      dev: ((await rows.nth(i).locator('[data-col="dev"]').textContent()) ?? '').trim(),
      state: (await rows.nth(i).getAttribute('data-state')) ?? '',
    });
  }
  return out;
}

describe('ui: faults', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  before(async () => {
    // 48 page requests in groups of 2 alternating over devices 1 and 2, held.
    serve = await startServe([
      '--source',
      'sim',
      '--inject',
      `count=${GROUPS * 2},pasids=0-3,devices=2,group=2,perm=rw`,
    ]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    await openFaultsWithPending(page, GROUPS);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('the Success and Invalid buttons answer the cursor row, or the selected rows', async () => {
    await faultRow(page, 0).click();
    await page.getByTestId('answer-success').click();
    await expectAnswered(page, 0, 'success', 'user');

    await faultRow(page, 1).getByTestId('row-select').click();
    await faultRow(page, 2).getByTestId('row-select').click();
    await page.getByTestId('answer-invalid').click();
    await expectAnswered(page, 1, 'invalid', 'user');
    await expectAnswered(page, 2, 'invalid', 'user');
    // A latency is shown for answered rows.
    assert.match(
      (await faultRow(page, 1).locator('[data-col="latency"]').textContent()) ?? '',
      /\d/,
    );
  });

  it('the s and i shortcuts answer, j/k move, x selects', async () => {
    await faultRow(page, 3).click();
    await page.keyboard.press('s');
    await expectAnswered(page, 3, 'success', 'user');

    await page.keyboard.press('j');
    await page.keyboard.press('i');
    await expectAnswered(page, 4, 'invalid', 'user');

    // step: select rows 5 and 6 with x, move away with k, answer both with s
    await page.keyboard.press('j');
    await page.keyboard.press('x');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('x');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('k');
    assert.match((await page.getByTestId('fault-summary').textContent()) ?? '', /2 selected/);
    await page.keyboard.press('s');
    await expectAnswered(page, 5, 'success', 'user');
    await expectAnswered(page, 6, 'success', 'user');
    assert.equal(await faultRow(page, 7).getAttribute('data-state'), 'pending');

    // step: answering an already answered row is refused by the core and said so
    await faultRow(page, 0).click();
    await page.keyboard.press('x');
    await page.keyboard.press('i');
    await page
      .getByTestId('notice')
      .filter({ hasText: /not answered: group \d+ is no longer pending: answered success by user/ })
      .first()
      .waitFor();
    await expectAnswered(page, 0, 'success', 'user');
    await page.keyboard.press('Escape');
  });

  it('Enter opens the detail pane with every field and the raw 40 bytes of each page', async () => {
    await faultRow(page, 8).click();
    const cookie = await faultRow(page, 8).getAttribute('data-cookie');
    await page.keyboard.press('Enter');
    await page.getByTestId('fault-detail').waitFor();
    const raw = page.getByTestId('detail-raw');
    await until('two pages', async () => (await raw.count()) === 2);
    const dump = (await raw.first().textContent()) ?? '';
    const lines = dump.trim().split('\n');
    assert.equal(lines.length, 5, '40 bytes are five lines of 8, one per pair of fields');
    assert.match(lines[0]!, /^0000 {2}([0-9a-f]{2} ){7}[0-9a-f]{2} {2}flags · dev_id$/);
    const le32 = (n: number) =>
      [0, 8, 16, 24].map((s) => ((n >>> s) & 0xff).toString(16).padStart(2, '0')).join(' ');
    assert.equal(lines[4], `0020  00 00 00 00 ${le32(Number(cookie))}  length · cookie`);
    const decoded = (await page.getByTestId('detail-local-decode').first().textContent()) ?? '';
    assert.match(decoded, new RegExp(`cookie=${cookie}\\b`));
    assert.match(decoded, /perm=0x3 /);
    assert.match((await page.getByTestId('fault-detail').textContent()) ?? '', /LAST_PAGE/);
    await screenshot(page, 'faults-detail');
    await page.keyboard.press('Escape');
    await until(
      'detail closed',
      async () => (await page.getByTestId('fault-detail').count()) === 0,
    );
  });

  it('a group expands to its pages', async () => {
    await faultRow(page, 9).getByTestId('row-expand').click();
    await until(
      '2 page lines',
      async () => (await page.getByTestId('fault-page-row').count()) === 2,
    );
    assert.match(
      (await page.getByTestId('fault-page-row').nth(1).textContent()) ?? '',
      /LAST_PAGE/,
    );
    await faultRow(page, 9).getByTestId('row-expand').click();
    await until('collapsed', async () => (await page.getByTestId('fault-page-row').count()) === 0);
  });

  it('filters narrow the table; a bad filter is named and changes nothing', async () => {
    await applyFilter(page, { 'filter-dev': '2', 'filter-state': 'pending' });
    await until('only pending dev 2', async () => {
      const rows = await visibleRows(page);
      return rows.length > 0 && rows.every((r) => r.dev === '2' && r.state === 'pending');
    });
    assert.match((await page.getByTestId('fault-summary').textContent()) ?? '', /matching/);

    await applyFilter(page, { 'filter-state': 'success' });
    await until('only success rows', async () => {
      const rows = await visibleRows(page);
      return rows.length === 4 && rows.every((r) => r.state === 'success');
    });

    await applyFilter(page, { 'filter-perm': 'q' });
    assert.match((await page.getByTestId('filter-problem').textContent()) ?? '', /perm/);
    await page.getByTestId('filter-clear').click();
    await until('all rows back', async () => (await visibleRows(page)).length === GROUPS);
  });

  it('rows are named by their group (#N), not by position', async () => {
    const group = await groupAt(page, 0);
    assert.match(group, /^[1-9][0-9]*$/);
    assert.equal(
      (await faultRow(page, 0).getByTestId('row-group').textContent())?.trim(),
      `#${group}`,
    );
    assert.notEqual(await groupAt(page, 1), group);
  });

  it('after a click on a row checkbox, s and i still answer', async () => {
    const pos = await until('a pending row', async () => {
      for (let p = 0; p < GROUPS; p++) {
        if ((await faultRow(page, p).getAttribute('data-state')) === 'pending') return p + 1;
      }
      return 0;
    });
    const group = await groupAt(page, pos - 1);
    await faultRow(page, pos - 1)
      .getByTestId('row-select')
      .click();
    assert.match((await page.getByTestId('fault-summary').textContent()) ?? '', /1 selected/);
    await page.keyboard.press('s');
    await expectGroup(page, group, 'success', 'user');
    assert.match((await page.getByTestId('fault-summary').textContent()) ?? '', /0 selected/);
  });

  it('with state=pending, s then j then s answers the first group and then the one now first', async () => {
    await applyFilter(page, { 'filter-state': 'pending' });
    await until('only pending rows', async () => {
      const rows = await visibleRows(page);
      return rows.length > 0 && rows.every((r) => r.state === 'pending');
    });
    const first = await Promise.all([0, 1, 2, 3, 4].map((p) => groupAt(page, p)));
    // Step: the answered row leaves the view before j (the refresh came first).
    await faultRow(page, 0).click();
    await page.keyboard.press('s');
    await until(
      'the answered group left the view',
      async () => (await groupAt(page, 0)) === first[1],
    );
    await page.keyboard.press('j');
    await page.keyboard.press('s');
    await until('the second group left too', async () => (await groupAt(page, 0)) === first[2]);
    // Step: s, j, s without waiting (j may come before the refresh). The cursor
    // sits where the answered group was: s answers the group now there.
    await page.keyboard.press('s');
    await page.keyboard.press('j');
    await page.keyboard.press('s');
    await until('four answered', async () => (await groupAt(page, 0)) === first[4]);
    await page.getByTestId('filter-clear').click();
    for (const g of first.slice(0, 4)) await expectGroup(page, g, 'success', 'user');
    assert.equal(
      await rowOfGroup(page, first[4]!).getAttribute('data-state'),
      'pending',
      'none skipped, none extra',
    );
  });

  it('two tabs: answering a group the other tab already answered is refused, naming who did', async () => {
    const group = await until('a pending group', async () => {
      for (let p = 0; p < GROUPS; p++) {
        if ((await faultRow(page, p).getAttribute('data-state')) === 'pending')
          return groupAt(page, p);
      }
      return '';
    });
    // Tab A selects the group …
    await rowOfGroup(page, group).getByTestId('row-select').click();
    // … tab B answers it first.
    const other = await browser.context.newPage();
    try {
      await other.goto(serve.url);
      await waitConnected(other);
      await gotoTab(other, 'Faults');
      await until(
        `group ${group} in tab B`,
        async () => (await rowOfGroup(other, group).count()) === 1,
      ).catch(async (err: unknown) => {
        await screenshot(other, 'faults-tab-b');
        throw err;
      });
      await rowOfGroup(other, group).click();
      await other.keyboard.press('i');
      await expectGroup(other, group, 'invalid', 'user');
    } finally {
      await other.close();
    }
    await page.keyboard.press('s');
    const notice = page.getByTestId('notice').filter({ hasText: `Group #${group} not answered` });
    await notice.first().waitFor();
    const text = (await notice.first().textContent()) ?? '';
    assert.match(text, /answered invalid by user at \d+:\d\d\.\d{3}/);
    assert.match(text, /ESTALE/);
    await expectGroup(page, group, 'invalid', 'user');
  });

  it('Drain asks for confirmation, drains only the filter, then everything', async () => {
    const pendingBefore = await pendingInPage(page);
    // step: cancelling answers nothing
    await page.getByTestId('drain').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-cancel').click();
    await page.waitForTimeout(300);
    assert.equal(await pendingInPage(page), pendingBefore);

    // step: d on a dev 1 filter, answered Success, confirmed
    await applyFilter(page, { 'filter-dev': '1' });
    await until('dev 1 rows', async () => {
      const rows = await visibleRows(page);
      return rows.length > 0 && rows.every((r) => r.dev === '1');
    });
    await faultRow(page, 0).click();
    await page.keyboard.press('d');
    await page.getByTestId('confirm-dialog').waitFor();
    assert.equal(
      await page.getByTestId('drain-filter').isChecked(),
      true,
      'filter scope preselected',
    );
    await page.getByTestId('drain-code').selectOption({ label: 'Success' });
    await screenshot(page, 'faults-drain');
    await page.getByTestId('confirm-ok').click();
    await until('dev 1 drained', async () => {
      const rows = await visibleRows(page);
      return rows.length > 0 && rows.every((r) => r.state !== 'pending');
    });
    await page.getByTestId('filter-clear').click();
    await until('all rows back', async () => (await visibleRows(page)).length === GROUPS);
    const dev2Pending = (await visibleRows(page)).filter((r) => r.state === 'pending');
    assert.ok(
      dev2Pending.length > 0 && dev2Pending.every((r) => r.dev === '2'),
      `only dev 2 still pending: ${JSON.stringify(await visibleRows(page))}`,
    );

    // step: drain every pending group Invalid
    await page.getByTestId('drain').click();
    await page.getByTestId('drain-all').check();
    await page.getByTestId('drain-code').selectOption({ label: 'Invalid' });
    await page.getByTestId('confirm-ok').click();
    await until('nothing pending', async () => (await pendingInPage(page)) === 0);
    assert.ok((await visibleRows(page)).every((r) => r.state !== 'pending'));
    await until('the whole drain is credited to drain', async () => {
      const drained = page.locator(
        '[data-testid="fault-row"][data-by="drain"][data-state="invalid"]',
      );
      return (await drained.count()) === dev2Pending.length;
    });
  });
});
