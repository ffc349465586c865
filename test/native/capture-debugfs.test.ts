// iommuscope-capture's debugfs source end to end on this machine: the real
// helper reads a copy of the test VM's /sys/kernel/debug/iommu/intel
// (test/fixtures/debugfs-vtd-7.3/attached, via --debugfs-dir) and the
// activity core decodes its frames. Watching a device at start and at run
// time, the size bound, a missing file and a missing folder. (The real
// debugfs and the capability split are checked in test/vm/debugfs.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ActivityEvent } from '../../main/common/activity/stream';
import type { DebugfsFile, DevicePasids } from '../../main/common/debugfs/events';
import { ActivityCore } from '../../main/node/activity/activity-core';
import type { RatesEvent } from '../../main/node/activity/rates';

const root = path.resolve(__dirname, '..', '..', '..');
const helper = path.join(root, 'native', 'build', 'capture', 'iommuscope-capture');
const fixture = path.join(root, 'test', 'fixtures', 'debugfs-vtd-7.3', 'attached');
const EDU = '0000:00:05.0';
const ONLY_DEBUGFS = ['--no-kmsg', '--no-trace', '--no-interrupts', '--debugfs-interval-ms', '200'];

function start(dir: string, watchDevices: string[] = []) {
  assert.ok(existsSync(helper), `${helper} missing: run node scripts/build-native.mjs`);
  const core = new ActivityCore({
    helper,
    helperArgs: [...ONLY_DEBUGFS, '--debugfs-dir', dir],
    watchDevices,
    resolve: (d) => ({ group: d === EDU ? 5 : null, driver: d === EDU ? 'vfio-pci' : null }),
  });
  const events: ActivityEvent[] = [];
  core.on((e: ActivityEvent | RatesEvent) => {
    if (e.type !== 'rates') events.push(e);
  });
  return { core, events };
}

async function until<T>(what: string, f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const deviceEvent = (events: ActivityEvent[], device: string, withTable: boolean) =>
  events.find(
    (e): e is DevicePasids =>
      e.type === 'device-pasids' &&
      e.device === device &&
      (!withTable || e.pasids[0]?.translation !== null),
  );

test('helper + core: dmar0 decoded, edu watched from the start with its 3 pages, 1f.0 watched at run time', async () => {
  const { core, events } = start(fixture, [EDU]);
  await core.start();
  try {
    assert.deepEqual(
      [...core.sources.values()].map((s) => [s.source, s.ok]),
      [['debugfs', true]],
    );
    const edu = await until('edu with its page table', () => deviceEvent(events, EDU, true));
    assert.deepEqual(
      [edu.group, edu.driver, edu.watched, edu.pasids[0]!.translation!.mappings],
      [5, 'vfio-pci', true, 3],
    );
    const unit = core.debugfs.units.get('dmar0');
    assert.equal(unit?.invalidationQueue?.size, 256);
    // step: the first device-pasids for edu already has its table (no half event before)
    assert.equal(events.filter((e) => e.type === 'device-pasids' && e.device === EDU).length, 1);
    // step: a device watched later is read at once, without waiting for a round
    assert.equal(core.watchDevice('0000:00:1f.0'), true);
    const lpc = await until('1f.0 with its page table', () =>
      deviceEvent(events, '0000:00:1f.0', true),
    );
    assert.ok(lpc.pasids[0]!.translation!.mappings > 10);
    // step: bad addresses are refused before they reach the helper
    assert.equal(core.watchDevice('../../etc'), false);
    // step: an unchanged file system: later rounds add no event
    const n = events.length;
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(events.length, n, JSON.stringify(events.slice(n)).slice(0, 500));
  } finally {
    await core.stop();
  }
});

test('helper: a page table over 512 KiB is cut and flagged; a missing file is named with its errno', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-debugfs-'));
  try {
    cpSync(fixture, dir, { recursive: true });
    rmSync(path.join(dir, 'dmar_perf_latency'));
    const head =
      'Device 0000:00:05.0 with pasid 0 @0x231c000\nIOVA_PFN\tPML5E\tPML4E\tPDPE\tPDE\tPTE\n';
    const row = (i: number) =>
      `0x${i.toString(16).padStart(13, '0')} |\t0x0000000000000000\t0x0000000000000000\t0x0000000002318403\t0x00000000022e6403\t0x000000006758b003\n`;
    const rows = Array.from({ length: 6000 }, (_, i) => row(i)).join('');
    writeFileSync(path.join(dir, EDU, 'domain_translation_struct'), head + rows);
    const { core, events } = start(dir, [EDU]);
    await core.start();
    try {
      const edu = await until('edu', () => deviceEvent(events, EDU, true));
      const t = edu.pasids[0]!.translation!;
      assert.equal(t.truncated, true);
      assert.ok(t.mappings > 4000 && t.mappings < 6000, `${t.mappings} mappings`);
      const files = events.filter((e): e is DebugfsFile => e.type === 'debugfs-file');
      const cut = files.find((f) => f.file === `${EDU}/domain_translation_struct`);
      assert.equal(cut?.truncated, true);
      const missing = files.find((f) => f.file === 'dmar_perf_latency');
      assert.deepEqual([missing?.ok, missing?.error], [false, 'ENOENT']);
      assert.match(missing!.detail, /not on this kernel/);
    } finally {
      await core.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helper: no debugfs folder is a named source error; a bad --debugfs-device exits 2', async () => {
  const { core } = start('/nonexistent/iommu/intel');
  await core.start();
  await core.stop();
  const s = core.sources.get('debugfs');
  assert.equal(s?.ok, false);
  assert.match(s!.detail, /\/nonexistent\/iommu\/intel: ENOENT \(debugfs not mounted/);
  const r = spawnSync(helper, ['--check', '--debugfs-device', '../x'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad --debugfs-device '\.\.\/x'/);
});

test('iommuscope activity --json --device: debugfs-unit and device-pasids lines, text block', () => {
  const cli = path.join(root, 'bin', 'iommuscope.js');
  const args = [
    cli,
    'activity',
    '--debugfs-dir',
    fixture,
    '--debugfs-interval',
    '200',
    '--duration',
    '1',
    '--device',
    EDU,
  ];
  const env = { ...process.env, IOMMUSCOPE_CAPTURE: helper };
  const r = spawnSync(process.execPath, [...args, '--json'], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });
  // step: one line per unit and (with --device) only edu's device line, each once
  const units = lines.filter((l) => l.type === 'debugfs-unit');
  assert.deepEqual(
    units.map((u) => u.unit),
    ['dmar0'],
  );
  const devices = lines.filter((l) => l.type === 'device-pasids') as unknown as DevicePasids[];
  assert.deepEqual(
    devices.map((d) => [d.device, d.watched, d.pasids.map((p) => p.pasid)]),
    [[EDU, true, [0]]],
  );
  assert.equal(devices[0]!.pasids[0]!.translation?.mappings, 3);
  // step: the text form shows the unit line and edu's PASID line
  const t = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  assert.equal(t.status, 0, t.stderr);
  assert.match(
    t.stdout,
    /debugfs units:\n {2}dmar0 +FSTS 0x0 clean {2}IQ 246\/246 of 256 \(0 pending\)/,
  );
  assert.match(t.stdout, /0000:00:05\.0 .* pasid 0 second-stage did 7 3 pages mapped \(watched\)/);
});
