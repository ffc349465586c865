// Intel IOMMU debugfs decoders on the REAL files read on the test VM
// (test/fixtures/debugfs-vtd-6.12 and -7.3: boot, then edu bound to vfio-pci
// and attached to an iommufd IOAS with pages at 0x100000, 0x200000 and
// 0x40000000), plus hand-made broken and truncated text: those must come
// out as counted problems with the raw line, never as a throw.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodeInvalidationQueue } from '../../main/common/debugfs/invalidation-queue';
import { decodePasidTable } from '../../main/common/debugfs/pasid-table';
import { decodePerfLatency } from '../../main/common/debugfs/perf-latency';
import { decodeRegset } from '../../main/common/debugfs/regset';
import { decodeTranslationStruct } from '../../main/common/debugfs/translation-struct';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const read = (kernel: string, file: string) =>
  readFileSync(path.join(fixtures, `debugfs-vtd-${kernel}`, file), 'utf8');
const EDU = '0000:00:05.0';

for (const kernel of ['6.12', '7.3']) {
  test(`[${kernel}] iommu_regset: dmar0's registers, fault status, queues`, () => {
    const r = decodeRegset(read(kernel, 'attached/iommu_regset'));
    assert.equal(r.problemCount, 0, JSON.stringify(r.problems));
    assert.equal(r.units.length, 1);
    const u = r.units[0]!;
    assert.deepEqual([u.unit, u.base], ['dmar0', '0xfed90000']);
    // step: every register line is kept; 6.12 also lists CCMD and AFLOG
    const names = u.registers.map((x) => x.name);
    assert.equal(names.includes('CCMD'), kernel === '6.12');
    assert.equal(names.includes('AFLOG'), kernel === '6.12');
    assert.equal(u.registers.length, kernel === '6.12' ? 64 : 62);
    assert.deepEqual(
      u.registers.find((x) => x.name === 'CAP'),
      {
        name: 'CAP',
        offset: 8,
        value: '0xd2008c22260286',
      },
    );
    // step: GSTS 0xc7000000: translation, queued invalidation and interrupt remapping on
    assert.deepEqual(u.status, {
      translation: true,
      queuedInvalidation: true,
      interruptRemapping: true,
    });
    // step: no fault pending, nothing overflowed
    assert.deepEqual(u.fault?.set, []);
    assert.equal(u.fault?.primaryPendingFault, false);
    // step: scalable mode: 256-bit descriptors, IQH/IQT >> 5, 2 pages = 256 slots
    const iq = u.invalidationQueue!;
    assert.equal(iq.size, 256);
    assert.equal(iq.head, iq.tail, 'the hardware fetched everything');
    assert.equal(iq.pending, 0);
    assert.equal(iq.base, kernel === '6.12' ? '0x112c000' : '0x114c000');
    // step: the emulated VT-d has no page request queue (PQA 0)
    assert.deepEqual(
      [u.pageRequestQueue?.size, u.pageRequestQueue?.pendingRequest, u.pageRequestQueue?.overflow],
      [0, false, false],
    );
  });

  test(`[${kernel}] invalidation_queue: 256 slots, head/tail match iommu_regset, descriptor types`, () => {
    const q = decodeInvalidationQueue(read(kernel, 'attached/invalidation_queue'));
    assert.equal(q.problemCount, 0, JSON.stringify(q.problems));
    const u = q.units[0]!;
    const regs = decodeRegset(read(kernel, 'attached/iommu_regset')).units[0]!.invalidationQueue!;
    assert.deepEqual([u.unit, u.base, u.head, u.tail], ['dmar0', regs.base, regs.head, regs.tail]);
    assert.equal(u.descriptorBits, 256);
    assert.equal(u.slots.length, 256);
    assert.deepEqual(
      u.slots.map((s) => s.index),
      [...Array(256).keys()],
    );
    // step: the boot's first descriptor is an interrupt entry cache flush (type 4)
    assert.equal(u.slots[0]!.typeName, 'interrupt-entry-cache');
    // step: every flush is followed by a wait descriptor, so waits are the most common
    const top = Object.entries(u.byType).sort((a, b) => b[1] - a[1])[0]!;
    assert.equal(top[0], 'wait');
    // step: the newest descriptor sits just before the tail and is a wait
    assert.equal(u.recent[0]!.index, (u.tail + 255) % 256);
    assert.equal(u.recent[0]!.typeName, 'wait');
    assert.ok(u.recent.length <= 8);
    assert.ok(
      Object.keys(u.byType).every((t) => !t.startsWith('type-')),
      JSON.stringify(u.byType),
    );
  });

  test(`[${kernel}] dmar_perf_latency: no rows until enabled, then the inv_iotlb row`, () => {
    const off = decodePerfLatency(read(kernel, 'attached/dmar_perf_latency'));
    assert.equal(off.problemCount, 0);
    assert.deepEqual(
      off.units.map((u) => [u.unit, u.buckets.length, u.rows.length]),
      [['dmar0', 7, 0]],
    );
    const on = decodePerfLatency(read(kernel, 'attached/dmar_perf_latency.enabled'));
    assert.equal(on.problemCount, 0, JSON.stringify(on.problems));
    const row = on.units[0]!.rows[0]!;
    assert.equal(row.name, 'inv_iotlb');
    assert.equal(row.counts.length, 7);
    assert.equal(
      row.counts.reduce((a, b) => a + b, 0),
      3,
    );
    assert.ok(row.minUs <= row.averageUs && row.averageUs <= row.maxUs);
  });

  test(`[${kernel}] dmar_translation_struct: every device's PASID 0 entry, edu second-stage`, () => {
    const p = decodePasidTable(read(kernel, 'attached/dmar_translation_struct'));
    assert.equal(p.problemCount, 0, JSON.stringify(p.problems));
    assert.deepEqual(
      p.units.map((u) => [u.unit, u.scalable]),
      [['dmar0', true]],
    );
    assert.equal(p.devices.length, 9);
    const edu = p.devices.find((d) => d.device === EDU)!;
    assert.equal(edu.contextPresent, true);
    assert.equal(edu.pasids.length, 1);
    const e = edu.pasids[0]!;
    assert.deepEqual(
      [e.pasid, e.present, e.pgtt, e.pgttName, e.did],
      [0, true, 2, 'second-stage', 7],
    );
    // step: the PASID entry's page table is the attach's domain, the one domain_translation_struct walks
    const t = decodeTranslationStruct(read(kernel, `attached/${EDU}/domain_translation_struct`));
    assert.equal(e.pageTable, t.sections[0]!.root);
    // step: 00:1f.0/.2/.3 share one domain (DID 8); before the attach edu had another table
    const dids = p.devices.filter((d) => d.bdf.startsWith('00:1f')).map((d) => d.pasids[0]!.did);
    assert.deepEqual(dids, [8, 8, 8]);
    const before = decodePasidTable(read(kernel, 'before/dmar_translation_struct'));
    const eduBefore = before.devices.find((d) => d.device === EDU)!.pasids[0]!;
    assert.notEqual(eduBefore.pageTable, e.pageTable);
  });

  test(`[${kernel}] domain_translation_struct: edu's three mapped pages after the attach`, () => {
    const before = decodeTranslationStruct(read(kernel, `before/${EDU}/domain_translation_struct`));
    assert.equal(before.problemCount, 0);
    assert.equal(before.sections[0]!.mappings.length, 0, 'no driver, no mappings');
    const t = decodeTranslationStruct(read(kernel, `attached/${EDU}/domain_translation_struct`));
    assert.equal(t.problemCount, 0, JSON.stringify(t.problems));
    const s = t.sections[0]!;
    assert.deepEqual([s.device, s.pasid], [EDU, 0]);
    assert.deepEqual(s.levels, ['PML5E', 'PML4E', 'PDPE', 'PDE', 'PTE']);
    assert.deepEqual(
      s.mappings.map((m) => [m.iova, m.leafLevel, m.pageSize, m.read, m.write]),
      [
        ['0x100000', 'PTE', 4096, true, true],
        ['0x200000', 'PTE', 4096, true, true],
        ['0x40000000', 'PTE', 4096, true, true],
      ],
    );
    // step: all three IOVAs map the one page attach_hold mapped
    assert.equal(new Set(s.mappings.map((m) => m.address)).size, 1);
    // step: a DMA domain with thousands of entries decodes without a problem
    const big = decodeTranslationStruct(
      read(kernel, 'attached/0000:00:1f.0/domain_translation_struct'),
    );
    assert.equal(big.problemCount, 0);
    assert.ok(big.sections[0]!.mappings.length > 100);
  });
}

test('broken iommu_regset: bad and early lines are counted with their text, the rest decodes', () => {
  const text = [
    'VER             \t0x00\t\t0x10',
    'IOMMU: dmar1 Register Base Address: fed91000',
    'Name\t\t\tOffset\t\tContents',
    'FSTS            \t0x34\t\t0x0000000000000013',
    'GSTS  garbage',
    'PQA             \t0xd0\t\t0x0000000012345002',
    'PQH             \t0xc0\t\t0x0000000000000040',
    'PQT             \t0xc8\t\t0x00000000000000a0',
    'PRS             \t0xdc\t\t0x0000000000000003',
    'IQA             \t0x90\t\t0x000000000114c00',
  ].join('\n');
  const r = decodeRegset(text);
  assert.equal(r.problemCount, 2);
  assert.deepEqual(
    r.problems.map((p) => [p.line, p.raw]),
    [
      [1, 'VER             \t0x00\t\t0x10'],
      [5, 'GSTS  garbage'],
    ],
  );
  const u = r.units[0]!;
  // step: FSTS 0x13 = PFO, PPF and IQE; FRI 0
  assert.deepEqual(u.fault?.set, ['PFO', 'PPF', 'IQE']);
  // step: PQA size 2 -> 4 pages of 32-byte requests; PQH 0x40 -> 2, PQT 0xa0 -> 5
  assert.deepEqual(
    [
      u.pageRequestQueue?.size,
      u.pageRequestQueue?.head,
      u.pageRequestQueue?.tail,
      u.pageRequestQueue?.pending,
    ],
    [512, 2, 5, 3],
  );
  assert.deepEqual(
    [u.pageRequestQueue?.pendingRequest, u.pageRequestQueue?.overflow],
    [true, true],
  );
  // step: no IQH/IQT, no GSTS: those parts are null, not invented
  assert.equal(u.invalidationQueue, null);
  assert.equal(u.status, null);
});

test('truncated invalidation_queue: the cut line is a problem, the complete slots are kept', () => {
  const full = read('7.3', 'attached/invalidation_queue');
  const cut = full.slice(0, full.indexOf('\n   20\t') + 20);
  const q = decodeInvalidationQueue(cut);
  assert.equal(q.units[0]!.slots.length, 20);
  assert.equal(q.problemCount, 1);
  assert.match(q.problems[0]!.raw, /^ {3}20\t/);
  assert.match(q.problems[0]!.reason, /4 quadwords/);
  // step: a descriptor before any queue header, and non-hex quadwords
  const bad = decodeInvalidationQueue('    0\t00\t00\t0\n');
  assert.equal(bad.problemCount, 1);
  assert.equal(bad.units.length, 0);
  const nonHex = decodeInvalidationQueue(
    'Invalidation queue on IOMMU: dmar0\n Base: 0x1000\tHead: 0\tTail: 0\nIndex\t\tqw0\t\t\tqw1\t\t\tstatus\n    0\t000000000000000z\t0000000000000000\t0\n',
  );
  assert.deepEqual([nonHex.problemCount, nonHex.units[0]!.descriptorBits], [1, 128]);
});

test('broken dmar_translation_struct and domain_translation_struct: problems, not throws', () => {
  const p = decodePasidTable(
    [
      '00:05.0\t0x1:0x2',
      'IOMMU dmar0: Root Table Address: 0x1a90000',
      'B.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry',
      '00:05.0\t0x0000000001a9d001:0x0000000001a93001\t0x0000000000000000:0x0000000001a9b401\t5\t0x0000000000000000:0x0000000000000009:0x0000000003000045',
      '00:05.0\t0x0000000001a9d001:0x0000000001a93001\t0x0000000000000000:0x0000000001a9b401\t6\t0x00000000',
      'zz:05.0\t0x0000000001a9d001:0x0000000001a93001\t0x0000000000000000:0x0000000001a9b401\t0\t0x0:0x0:0x0',
    ].join('\n'),
    () => 1,
  );
  assert.equal(p.problemCount, 3);
  assert.deepEqual(
    p.problems.map((x) => x.line),
    [1, 5, 6],
  );
  // step: PASID 5, PGTT 1 (first stage, 0x45 >> 6), DID 9; segment from the caller
  assert.equal(p.devices[0]!.device, '0001:00:05.0');
  const e = p.devices[0]!.pasids[0]!;
  assert.deepEqual([e.pasid, e.pgttName, e.did, e.present], [5, 'first-stage', 9, true]);
  const t = decodeTranslationStruct(
    [
      'IOVA_PFN\tPTE',
      'Device 0000:00:05.0 with pasid 3 @0x231c000',
      'IOVA_PFN         \tPML4E             \tPDPE              \tPDE               \tPTE',
      '0x0000000000200 |\t0x0000000002318403\t0x0000000002318403\t0x0000000040000083\t0x0000000000000000',
      '0x0000000000300 |\t0x0000000002318403\t0x00000000',
    ].join('\n'),
  );
  assert.equal(t.problemCount, 2);
  // step: a 2 MiB page ends the walk at the PDE (PS bit); the PTE column is 0
  const m = t.sections[0]!.mappings[0]!;
  assert.deepEqual(
    [m.iova, m.leafLevel, m.pageSize, m.address, m.read, m.write],
    ['0x200000', 'PDE', 2 << 20, '0x40000000', true, true],
  );
  assert.equal(t.sections[0]!.pasid, 3);
  // step: empty and binary input
  for (const junk of ['', '\0\xff\n\n', 'x'.repeat(10000)]) {
    for (const d of [
      decodeRegset,
      decodeInvalidationQueue,
      decodePerfLatency,
      decodeTranslationStruct,
    ])
      d(junk);
    decodePasidTable(junk);
  }
  // step: problems past 50 are counted, not kept
  const many = decodeRegset('junk\n'.repeat(500));
  assert.deepEqual([many.problemCount, many.problems.length], [500, 50]);
});
