// The activity core's debugfs projection (main/node/activity/debugfs-state.ts)
// fed kDebugfs frames built from the REAL files of the test VM
// (test/fixtures/debugfs-vtd-*): per unit registers and queues, per device
// live PASIDs with the watched device's page table summary, only changes
// emitted, and file errors, truncation and problems surfaced, never thrown.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { DebugfsFile, DebugfsUnit, DevicePasids } from '../../main/common/debugfs/events';
import { DebugfsState, parseDebugfsFrame } from '../../main/node/activity/debugfs-state';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const EDU = '0000:00:05.0';
const UNIT_FILES = ['iommu_regset', 'invalidation_queue', 'dmar_perf_latency'];

function frame(file: string, text: string, flag = ''): Buffer {
  return Buffer.from(`${file}${flag ? `\t${flag}` : ''}\n${text}`);
}
const fixture = (kernel: string, stage: string, file: string) =>
  readFileSync(path.join(fixtures, `debugfs-vtd-${kernel}`, stage, file), 'utf8');

/** One helper round: unit files, the watched devices' page tables, the PASID tables last. */
function round(s: DebugfsState, kernel: string, stage: string, time: number) {
  const out = [];
  for (const f of UNIT_FILES) out.push(...s.onFrame(frame(f, fixture(kernel, stage, f)), time));
  for (const d of s.watched) {
    const rel = `${d}/domain_translation_struct`;
    out.push(...s.onFrame(frame(rel, fixture(kernel, stage, rel)), time));
  }
  const pasids = 'dmar_translation_struct';
  out.push(...s.onFrame(frame(pasids, fixture(kernel, stage, pasids)), time));
  return out;
}

const resolve = (d: string) => ({
  group: d === EDU ? 5 : null,
  driver: d === EDU ? 'vfio-pci' : null,
});

test('frame headers: plain, truncated, error', () => {
  assert.deepEqual(parseDebugfsFrame(Buffer.from('iommu_regset\nabc')), {
    file: 'iommu_regset',
    flag: 'ok',
    error: null,
    text: 'abc',
  });
  assert.equal(parseDebugfsFrame(Buffer.from('a/b\ttruncated\nx')).flag, 'truncated');
  assert.deepEqual(parseDebugfsFrame(Buffer.from('x\terror ENOENT\nnot here')), {
    file: 'x',
    flag: 'error',
    error: 'ENOENT',
    text: 'not here',
  });
});

for (const kernel of ['6.12', '7.3']) {
  test(`[${kernel}] a round emits dmar0 and every device once; an unchanged round emits nothing`, () => {
    const s = new DebugfsState(resolve);
    s.watched.add(EDU);
    const first = round(s, kernel, 'attached', 1000);
    const units = first.filter((e): e is DebugfsUnit => e.type === 'debugfs-unit');
    const devices = first.filter((e): e is DevicePasids => e.type === 'device-pasids');
    assert.deepEqual(
      first.filter((e) => e.type === 'debugfs-file'),
      [],
      'clean files say nothing',
    );
    // step: dmar0 with its fault status, queue state and (no) latency rows
    assert.equal(units.length, 1);
    const u = units[0]!;
    assert.equal(u.unit, 'dmar0');
    assert.deepEqual(u.fault?.set, []);
    assert.equal(u.registers.GSTS, '0xc7000000');
    assert.equal(u.invalidationQueue?.descriptorBits, 256);
    assert.equal(u.invalidationQueue?.recent[0]?.typeName, 'wait');
    assert.deepEqual(u.latency, []);
    // step: nine devices, each with live PASID 0; edu resolved and watched, with its 3 pages
    assert.equal(devices.length, 9);
    const edu = devices.find((d) => d.device === EDU)!;
    assert.deepEqual([edu.group, edu.driver, edu.watched], [5, 'vfio-pci', true]);
    assert.deepEqual(
      edu.pasids.map((p) => [p.pasid, p.pgttName, p.did]),
      [[0, 'second-stage', 7]],
    );
    const t = edu.pasids[0]!.translation!;
    assert.deepEqual(
      [t.mappings, t.truncated, t.first.map((m) => m.iova)],
      [3, false, ['0x100000', '0x200000', '0x40000000']],
    );
    assert.equal(t.root, edu.pasids[0]!.pageTable);
    assert.equal(devices.find((d) => d.device === '0000:00:1f.0')!.pasids[0]!.translation, null);
    // step: the same files again: nothing new
    assert.deepEqual(round(s, kernel, 'attached', 6000), []);
    assert.equal(s.units.get('dmar0')!.time, 6000, 'the state keeps the newest read time');
  });

  test(`[${kernel}] before -> attached: only the changed unit and edu are emitted`, () => {
    const s = new DebugfsState(resolve);
    s.watched.add(EDU);
    round(s, kernel, 'before', 1000);
    const next = round(s, kernel, 'attached', 2000);
    const devices = next.filter((e): e is DevicePasids => e.type === 'device-pasids');
    assert.deepEqual(
      devices.map((d) => d.device),
      [EDU],
    );
    assert.equal(devices[0]!.pasids[0]!.translation!.mappings, 3);
    // The invalidation queue moved on (the attach flushed): dmar0 is news.
    assert.ok(next.some((e) => e.type === 'debugfs-unit' && e.unit === 'dmar0'));
  });
}

test('errors, truncation and problems: a debugfs-file event on each change, not on repeats', () => {
  const s = new DebugfsState(resolve);
  const files = (l: ReturnType<DebugfsState['onFrame']>) =>
    l.filter((e): e is DebugfsFile => e.type === 'debugfs-file');
  // step: a missing file
  const miss = files(
    s.onFrame(frame('dmar_perf_latency', 'not on this kernel', 'error ENOENT'), 1),
  );
  assert.deepEqual(
    miss.map((e) => [e.file, e.ok, e.error, e.detail]),
    [['dmar_perf_latency', false, 'ENOENT', 'not on this kernel']],
  );
  assert.deepEqual(
    files(s.onFrame(frame('dmar_perf_latency', 'not on this kernel', 'error ENOENT'), 2)),
    [],
  );
  // step: back again
  const back = files(
    s.onFrame(frame('dmar_perf_latency', fixture('7.3', 'attached', 'dmar_perf_latency')), 3),
  );
  assert.deepEqual(
    back.map((e) => [e.ok, e.error]),
    [[true, null]],
  );
  // step: a truncated page table: flagged on the file and on the translation
  const big = fixture('6.12', 'attached', '0000:00:1f.0/domain_translation_struct');
  const cut = big.slice(0, 100_000);
  s.watched.add('0000:00:1f.0');
  s.onFrame(
    frame('dmar_translation_struct', fixture('6.12', 'attached', 'dmar_translation_struct')),
    4,
  );
  const tr = s.onFrame(frame('0000:00:1f.0/domain_translation_struct', cut, 'truncated'), 5);
  const f = files(tr)[0]!;
  assert.deepEqual([f.truncated, f.problemCount], [true, 1], 'the cut last line is a problem');
  const dev = tr.find((e): e is DevicePasids => e.type === 'device-pasids')!;
  assert.equal(dev.pasids[0]!.translation!.truncated, true);
  assert.equal(dev.pasids[0]!.translation!.first.length, 16, 'at most 16 mappings kept');
  assert.ok(dev.pasids[0]!.translation!.mappings > 800);
  // step: garbage in a unit file: counted problems with the raw line, no throw
  const junk = files(
    s.onFrame(
      frame('iommu_regset', 'IOMMU: dmar0 Register Base Address: fed90000\nFSTS 12 zz\n'),
      6,
    ),
  );
  assert.deepEqual(
    junk.map((e) => [e.problemCount, e.problems[0]?.raw]),
    [[1, 'FSTS 12 zz']],
  );
  // step: a refused watch names itself
  const w = files(s.onFrame(frame('watch 0000:zz', 'not a PCI address', 'error EINVAL'), 7));
  assert.deepEqual(
    w.map((e) => [e.file, e.error]),
    [['watch 0000:zz', 'EINVAL']],
  );
});
