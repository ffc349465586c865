// Replaying a recording in browser mode, as a user does it: drop the file on
// the window (a real DataTransfer drop event), see its faults on Live and
// Faults, pause, scrub back and forward with the slider and the CLI's keys
// (End, ←, .) and check that the counters and the table match the recording
// at that point; then drop a file damaged mid-way (plays up to the damage,
// the timeline names the byte offset) and one damaged in its header (refused,
// the error names the byte offset).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { recordSession, type RecordedSession } from '../shared/recorded-session';
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
if (skip) console.log(`# ui replay timeline: skipped: ${skip}`);

/** The page's DOM as this test uses it (the test project has no DOM lib). */
interface PageDom {
  DataTransfer: new () => { items: { add(f: unknown): void } };
  File: new (parts: Uint8Array[], name: string, opts: { type: string }) => unknown;
  DragEvent: new (type: string, init: object) => unknown;
  document: {
    body: { dispatchEvent(e: unknown): boolean };
    querySelector(s: string): { dispatchEvent(e: unknown): boolean } | null;
    activeElement: { blur?: () => void } | null;
  };
  atob(s: string): string;
}

/** Drop `bytes` as a file named `name` on the page, as a file manager's drag would. */
async function dropFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.evaluate(
    ({ name, b64 }) => {
      const w = globalThis as unknown as PageDom;
      const bin = w.atob(b64);
      const data = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
      const dt = new w.DataTransfer();
      dt.items.add(new w.File([data], name, { type: 'application/gzip' }));
      const target = w.document.querySelector('main.view') ?? w.document.body;
      for (const type of ['dragenter', 'dragover', 'drop'])
        target.dispatchEvent(
          new w.DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }),
        );
    },
    { name, b64: bytes.toString('base64') },
  );
}

async function counter(page: Page, testid: string): Promise<number> {
  const text = await page.getByTestId(testid).locator('.value').innerText();
  return Number(text.replace(/[^\d]/g, ''));
}

async function text(page: Page, testid: string): Promise<string> {
  return (await page.getByTestId(testid).innerText()).trim();
}

/** Batches of `rec` delivered at recorded time `ms` (from the first batch). */
function batchesAt(rec: RecordedSession, ms: number): number {
  const first = rec.deliveredNs[0]!;
  return rec.deliveredNs.filter((ns) => ns <= first + ms * 1e6).length;
}

describe('ui: replay timeline', { skip: skip ?? false }, () => {
  let serve: Serve;
  let browser: Browser;
  let page: Page;
  let dataHome: string;
  let rec: RecordedSession;
  const pageErrors: string[] = [];

  before(async () => {
    dataHome = mkdtempSync(path.join(tmpdir(), 'iommuscope-ui-replay-'));
    // 60 batches 500 ms apart: 29.5 s of recorded time, 3 groups (4 page requests) each.
    rec = recordSession(path.join(dataHome, 'bench.pcapng.gz'), 60, 500);
    // serve saves dropped recordings under $XDG_DATA_HOME/iommuscope/recordings.
    process.env.XDG_DATA_HOME = dataHome;
    serve = await startServe([]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    rmSync(dataHome, { recursive: true, force: true });
  });

  it('a dropped recording plays: the timeline appears and the faults come in', async () => {
    await gotoTab(page, 'Live');
    assert.equal(
      await page.getByTestId('replay-timeline').count(),
      0,
      'no timeline without a replay',
    );
    await dropFile(page, 'bench.pcapng.gz', readFileSync(rec.file));
    await page.getByTestId('replay-timeline').waitFor({ timeout: 15000 });
    assert.equal(await text(page, 'replay-duration'), '00:29.500');
    assert.match(await text(page, 'replay-wall'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/);
    await until('faults on Live', async () => (await counter(page, 'count-faults')) > 0, 15000);
    await gotoTab(page, 'Faults');
    await until('rows in the Faults table', async () =>
      /^[1-9]\d* groups/.test(await text(page, 'fault-summary')),
    );
    assert.match(await text(page, 'session-summary'), /^replay/);
  });

  it('pause holds; the slider seeks forward and back; End, ← and . as the CLI keys', async () => {
    await page.getByTestId('replay-play').click();
    await page.getByTestId('replay-paused').waitFor();
    const held = await text(page, 'replay-batch');
    await new Promise((r) => setTimeout(r, 1200)); // two recorded batches' time
    assert.equal(await text(page, 'replay-batch'), held, 'paused: no batch delivered');

    const expectAt = async (ms: number, label: string) => {
      const n = batchesAt(rec, ms);
      const totals = rec.batches[n - 1]!.totals;
      await until(
        `${label}: batch ${n}`,
        async () => (await text(page, 'replay-batch')) === `batch ${n}/60`,
      );
      await gotoTab(page, 'Live');
      await until(
        `${label}: ${totals.faults} page requests`,
        async () => (await counter(page, 'count-faults')) === totals.faults,
      );
      assert.equal(await counter(page, 'count-groups'), totals.groups);
      assert.equal(await counter(page, 'count-pending'), totals.pending);
      assert.equal(await counter(page, 'count-policy'), totals.byPolicy);
      assert.equal(
        await counter(page, 'count-log'),
        totals.groups,
        'every group read is in the log',
      );
      await gotoTab(page, 'Faults');
      await until(`${label}: ${totals.groups} rows`, async () =>
        (await text(page, 'fault-summary')).startsWith(`${totals.groups} groups`),
      );
    };

    // Forward with the slider (release commits), then back with it.
    await page.getByTestId('replay-slider').fill('20000');
    await expectAt(20_000, 'slider to 20 s');
    assert.equal(await text(page, 'replay-position'), '00:20.000');
    await page.getByTestId('replay-slider').fill('5000');
    await expectAt(5_000, 'slider back to 5 s');

    // Keys (focus on no input): End on Faults stays the table's; End and ← (−10 s) on Live;
    // then . (one batch) on Faults, where no table key takes it.
    const blur = () =>
      page.evaluate(() => (globalThis as unknown as PageDom).document.activeElement?.blur?.());
    await blur();
    await page.keyboard.press('End');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await text(page, 'replay-batch'), `batch ${batchesAt(rec, 5_000)}/60`);
    await gotoTab(page, 'Live');
    await blur();
    await page.keyboard.press('End');
    await expectAt(29_500, 'End');
    await gotoTab(page, 'Live');
    await blur();
    await page.keyboard.press('ArrowLeft');
    await expectAt(19_500, '← from the end');
    await blur();
    await page.keyboard.press('.');
    await expectAt(20_000, '. one batch');
    await screenshot(page, 'replay-timeline');
  });

  it('speed select and play to the end: "ended"', async () => {
    await page.getByTestId('replay-speed').selectOption('16');
    await page.getByTestId('replay-play').click();
    await page.getByTestId('replay-ended').waitFor({ timeout: 15000 });
    assert.equal(await text(page, 'replay-batch'), 'batch 60/60');
    await gotoTab(page, 'Live');
    await until(
      'the final totals',
      async () => (await counter(page, 'count-faults')) === rec.batches[59]!.totals.faults,
    );
  });

  it('a file damaged mid-way plays up to the damage and names the byte offset', async () => {
    const bytes = Buffer.from(readFileSync(rec.file));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await dropFile(page, 'torn.pcapng.gz', bytes);
    const damage = page.getByTestId('replay-damage');
    await damage.waitFor({ timeout: 15000 });
    assert.match(
      await damage.innerText(),
      /readable up to byte \d+: corrupt BGZF block at byte \d+/,
    );
  });

  it('a file damaged in its header is refused, the error naming the byte offset', async () => {
    const bytes = Buffer.from(readFileSync(rec.file));
    bytes[30]! ^= 0xff;
    await dropFile(page, 'broken.pcapng.gz', bytes);
    const banner = page.getByTestId('session-error');
    await banner.waitFor({ timeout: 15000 });
    assert.match(await banner.innerText(), /broken-[0-9a-f]{8}\.pcapng\.gz: .*byte \d+/);
    await until('a notice naming the offset', async () =>
      /broken\.pcapng\.gz did not open: .*byte \d+/.test(await page.locator('body').innerText()),
    );
    assert.equal(await page.getByTestId('replay-timeline').count(), 0, 'no replay open');
  });

  it('the Session view file picker opens a recording the same way', async () => {
    await gotoTab(page, 'Session');
    await page.getByTestId('source-replay').check();
    await page.getByTestId('replay-pick').setInputFiles({
      name: 'picked.pcapng.gz',
      mimeType: 'application/gzip',
      buffer: readFileSync(rec.file),
    });
    await page.getByTestId('replay-timeline').waitFor({ timeout: 15000 });
    assert.match(await text(page, 'replay-timeline'), /picked-[0-9a-f]{8}\.pcapng\.gz/);
    assert.equal(await page.getByTestId('session-error').count(), 0, 'the old error is gone');
    assert.deepEqual(pageErrors, []);
  });
});
