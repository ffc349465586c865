// Browser mode, the Host view on a real sysfs capture (emulated VT-d in the
// VM): `serve --sysfs-root` on a copy of test/fixtures/sysfs-vtd shows dmar0
// and its decoded registers, the groups with their VFIO verdicts and reasons,
// the edu device's capabilities; then the copy is changed the way binding edu
// to vfio-pci changed the real sysfs (sysfs-vtd-vfio) and the topology
// watcher's rescan lights up the edu row.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  gotoTab,
  launchBrowser,
  openApp,
  repoRoot,
  screenshot,
  startServe,
  uiSkipReason,
  until,
  type Browser,
  type Serve,
} from './harness';

const skip = uiSkipReason();
if (skip) console.log(`# ui host-vtd: skipped: ${skip}`);

const FIXTURES = path.join(repoRoot, 'test', 'fixtures');
const EDU = '0000:00:05.0';

/**
 * Makes `target` (a copy of `before`) look like `wanted` with the fewest
 * changes: entries only in `wanted` are created (symlinks with the same
 * target), files whose bytes differ are rewritten, entries gone are removed.
 * Returns the changed paths, relative to the tree root.
 */
function applyTreeDiff(before: string, wanted: string, target: string, rel = ''): string[] {
  const changed: string[] = [];
  const names = new Set([
    ...readdirSync(path.join(before, rel)),
    ...readdirSync(path.join(wanted, rel)),
  ]);
  for (const name of [...names].sort()) {
    const r = path.join(rel, name);
    const b = lstatOrNull(path.join(before, r));
    const w = lstatOrNull(path.join(wanted, r));
    const t = path.join(target, r);
    if (!w) {
      rmSync(t, { recursive: true, force: true });
      changed.push(`-${r}`);
    } else if (w.isSymbolicLink()) {
      const link = readlinkSync(path.join(wanted, r));
      if (b?.isSymbolicLink() && readlinkSync(path.join(before, r)) === link) continue;
      rmSync(t, { recursive: true, force: true });
      symlinkSync(link, t);
      changed.push(`${r} -> ${link}`);
    } else if (w.isDirectory()) {
      if (!b?.isDirectory()) {
        rmSync(t, { recursive: true, force: true });
        mkdirSync(t);
        changed.push(`${r}/`);
        changed.push(...copyAll(wanted, t, r));
      } else {
        changed.push(...applyTreeDiff(before, wanted, target, r));
      }
    } else if (
      !b?.isFile() ||
      !readFileSync(path.join(before, r)).equals(readFileSync(path.join(wanted, r)))
    ) {
      rmSync(t, { recursive: true, force: true });
      copyFileSync(path.join(wanted, r), t);
      changed.push(r);
    }
  }
  return changed;
}

/** Copies the contents of the new folder `rel` of `from` into `to` (already created). */
function copyAll(from: string, to: string, rel: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(from, rel))) {
    const src = path.join(from, rel, name);
    const dst = path.join(to, name);
    const st = lstatSync(src);
    out.push(path.join(rel, name));
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isDirectory()) {
      mkdirSync(dst);
      out.push(...copyAll(from, dst, path.join(rel, name)));
    } else copyFileSync(src, dst);
  }
  return out;
}

function lstatOrNull(p: string): ReturnType<typeof lstatSync> | null {
  return existsSync(p) || isDanglingLink(p) ? lstatSync(p) : null;
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

describe('ui: Host view on a real VT-d sysfs capture', { skip: skip ?? false }, () => {
  let work: string;
  let root: string;
  let serve: Serve;
  let browser: Browser;
  let page: Page;

  const eduRow = (p: Page) => p.locator(`[data-testid="host-device"][data-address="${EDU}"]`);

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'iommuscope-host-vtd-'));
    root = path.join(work, 'sys');
    // cp -a: the capture's symlinks (driver, iommu_group, iommu) must stay links.
    execFileSync('cp', ['-a', path.join(FIXTURES, 'sysfs-vtd'), root]);
    serve = await startServe(['--sysfs-root', root]);
    browser = await launchBrowser();
    page = await openApp(browser, serve.url);
    await gotoTab(page, 'Host');
    await eduRow(page).waitFor();
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows dmar0 with its summary and decoded cap/ecap features', async () => {
    const unit = page.locator('[data-testid="host-unit"]', { hasText: 'dmar0' });
    assert.match((await unit.textContent()) ?? '', /Intel VT-d/);
    const summary = (await unit.getByTestId('unit-summary').textContent()) ?? '';
    for (const b of ['SM', 'PRS', 'PASID', 'CM', 'dom 9/65536']) assert.ok(summary.includes(b), b);
    // PRS is absent on this emulated unit, and said so (struck through), not hidden.
    assert.match(
      (await unit.locator('.badge.lacks', { hasText: 'PRS' }).getAttribute('title')) ?? '',
      /page requests.*: no/,
    );
    await unit.getByTestId('unit-features').locator('summary').click();
    const features = unit.getByTestId('unit-feature');
    assert.equal(await features.count(), 44);
    const smts = features.filter({ hasText: 'Scalable mode translation (SMTS)' });
    assert.match((await smts.textContent()) ?? '', /yes\s*ecap\[43\]/);
    const mgaw = features.filter({ hasText: 'Max guest address width (MGAW)' });
    assert.match((await mgaw.textContent()) ?? '', /39\s*cap\[21:16\]/);
  });

  it('lists groups with their VFIO verdict; group 6 says why it is not viable', async () => {
    const group = (id: number) => page.locator(`[data-testid="host-group"][data-group="${id}"]`);
    assert.equal(await page.getByTestId('host-group').count(), 7);
    assert.match((await group(5).textContent()) ?? '', /viable/);
    assert.equal(await group(5).getByTestId('group-verdict').count(), 0);
    assert.match((await group(6).getByTestId('group-verdict').textContent()) ?? '', /not viable/);
    const reasons = page.locator('[data-testid="group-reasons"][data-group="6"] .reason');
    assert.deepEqual(
      (await reasons.allTextContents()).map((t) => t.trim()),
      ['0000:00:1f.2 is bound to ahci', '0000:00:1f.3 is bound to i801_smbus'],
    );
    // The full reason, with the command that fixes it, is the tooltip.
    assert.match((await reasons.first().getAttribute('title')) ?? '', /driver\/unbind/);
  });

  it('shows the edu device unbound, without ATS/PRI/PASID', async () => {
    const cells = eduRow(page).locator('td');
    assert.match((await cells.nth(1).textContent()) ?? '', /1234:11e8/);
    assert.equal((await cells.nth(2).textContent())?.trim(), '—');
    assert.equal((await cells.nth(3).textContent())?.trim(), '5');
    assert.equal((await cells.nth(4).textContent())?.trim(), 'dmar0');
    // No ATS/PRI/PASID badge: one dim 'none', read from full config space.
    const badges = eduRow(page).locator('[data-testid="cap-badge"]');
    assert.deepEqual(
      (await badges.allTextContents()).map((t) => t.trim()),
      ['none'],
    );
    assert.match((await badges.first().getAttribute('class')) ?? '', /\bdim\b/);
    assert.equal(await badges.first().getAttribute('title'), 'no ATS, PRI or PASID capability');
  });

  it('binding edu to vfio-pci (the captured sysfs change) highlights its row live', async () => {
    const changed = applyTreeDiff(
      path.join(FIXTURES, 'sysfs-vtd'),
      path.join(FIXTURES, 'sysfs-vtd-vfio'),
      root,
    );
    const eduDir = `devices/pci0000:00/${EDU}`;
    assert.deepEqual(changed, [
      `${eduDir}/driver -> ../../../bus/pci/drivers/vfio-pci`,
      `${eduDir}/vfio-dev/`,
      `${eduDir}/vfio-dev/vfio0`,
      `${eduDir}/vfio-dev/vfio0/dev`,
    ]);
    // The watcher rescans every second (serve uses the default interval).
    await until(
      'edu row highlighted',
      async () => /\bchanged\b/.test((await eduRow(page).getAttribute('class')) ?? ''),
      5000,
    );
    const cells = eduRow(page).locator('td');
    assert.match((await cells.nth(2).textContent()) ?? '', /vfio-pci\s+vfio0/);
    assert.match(
      (await page.getByTestId('host-changes').textContent()) ?? '',
      new RegExp(`changed device ${EDU} \\(.*driver.*\\)`),
    );
    const file = await screenshot(page, 'host-vtd');
    assert.ok(existsSync(file));
  });
});
