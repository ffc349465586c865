// Kernel-log decoders on REAL records captured from the test VM (kernels
// 6.12 and 7.3, -i vtd, edu DMA to unmapped IOVAs: test/fixtures/activity),
// plus AMD-Vi and SMMUv3 lines written from the kernels' format strings.
// Malformed and truncated lines must come out as 'unparsed' with their raw
// text, and the kmsg sequence must show gaps and never process a record twice.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { KmsgDecoder } from '../../main/common/activity/kmsg-decoder';
import { parseKmsgRecord } from '../../main/common/activity/kmsg';
import type { DmaFault, KmsgActivity } from '../../main/common/activity/types';
import {
  intelFaultReason,
  intelFaultReasonCodes,
} from '../../main/common/activity/intel-fault-reasons';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'activity');

function records(kernel: string): string[] {
  const bin = readFileSync(path.join(fixtures, `kernel-${kernel}`, 'kmsg-records.bin'), 'latin1');
  return bin.split('\0').filter((r) => r.length > 0);
}

function decodeAll(lines: string[]): { events: KmsgActivity[]; decoder: KmsgDecoder } {
  const decoder = new KmsgDecoder();
  const events: KmsgActivity[] = [];
  for (const l of lines) events.push(...decoder.push(l));
  events.push(...decoder.flush());
  return { events, decoder };
}

const faults = (e: KmsgActivity[]) => e.filter((x): x is DmaFault => x.type === 'dma-fault');

for (const kernel of ['6.12', '7.3']) {
  test(`kernel ${kernel}: the edu DMA faults decode with BDF, address, access, reason and walk`, () => {
    const { events, decoder } = decodeAll(records(kernel));
    const f = faults(events);
    // step: the first read fault (edu_dma 0x5550000 read)
    const read = f.find((x) => x.addr === '0x5550000');
    assert.ok(read, 'no fault at 0x5550000');
    assert.equal(read.vendor, 'intel');
    assert.equal(read.device, '0000:00:05.0');
    assert.equal(read.unit, 'dmar0');
    assert.equal(read.pasid, 0);
    assert.equal(read.access, 'read');
    assert.equal(read.reason, 6);
    assert.equal(read.reasonText, 'PTE Read access is not set');
    assert.match(read.meaning, /not mapped/);
    // step: the walk: root, context, PASID dir, 8 PASID qwords, PTE level 3, not present at 2
    assert.deepEqual(
      read.walk.map((w) => w.what),
      ['root', 'context', 'pasid-dir', ...Array(8).fill('pasid-entry'), 'pte', 'not-present'],
    );
    assert.equal(read.walk[0]!.decoded.scalable, true);
    assert.equal(read.walk[3]!.decoded.pgtt, 'second-level');
    assert.equal(read.walk[4]!.decoded.domainId, 7);
    assert.deepEqual([read.walk[11]!.level, read.walk[11]!.decoded.present], [3, false]);
    assert.equal(read.walk[12]!.level, 2);
    assert.equal(read.raw.length, 1 + 1 + 13);
    // step: the write fault
    const write = f.find((x) => x.addr === '0x6660000');
    assert.equal(write?.access, 'write');
    assert.equal(write?.reason, 5);
    assert.equal(write?.reasonText, 'PTE Write access is not set');
    // step: the ratelimited burst is counted, not lost
    const suppressed = events.filter((e) => e.type === 'suppressed');
    assert.ok(suppressed.length >= 1);
    assert.ok(
      suppressed.every(
        (s) => s.type === 'suppressed' && s.source === 'dmar_fault' && s.vendor === 'intel',
      ),
    );
    assert.equal(
      decoder.counters.suppressed,
      suppressed.reduce((a, s) => a + (s.type === 'suppressed' ? s.count : 0), 0),
    );
    // step: nothing in the real log was unparsed, no gap, no duplicate
    assert.deepEqual(
      events.filter((e) => e.type === 'unparsed'),
      [],
    );
    assert.equal(decoder.counters.missed, 0);
    assert.equal(decoder.counters.duplicates, 0);
    // step: the status lines are kept as messages, not dropped
    assert.ok(
      events.some((e) => e.type === 'iommu-message' && /DRHD: handling fault status/.test(e.text)),
    );
    // step: every fault seen on the console is a decoded event
    const faultLines = records(kernel).filter((r) => /DMAR: \[DMA (Read|Write)/.test(r)).length;
    assert.equal(f.length, faultLines);
  });
}

test('a fault whose walk is cut short is still emitted at flush, walk as far as printed', () => {
  const d = new KmsgDecoder();
  const a = d.push(
    '3,10,100,-;DMAR: [DMA Read NO_PASID] Request device [00:05.0] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set\n',
  );
  const b = d.push('6,11,101,-;DMAR: Dump dmar0 table entries for IOVA 0x1000\n');
  assert.deepEqual([a, b], [[], []]);
  assert.ok(d.pending);
  const out = d.flush();
  assert.equal(out.length, 1);
  const f = out[0] as DmaFault;
  assert.equal(f.pasid, null);
  assert.equal(f.unit, 'dmar0');
  assert.deepEqual(f.walk, []);
  assert.equal(d.pending, false);
});

test('a fault is emitted when an unrelated record follows it', () => {
  const d = new KmsgDecoder();
  d.push(
    '3,1,1,-;DMAR: [DMA Write PASID 0x3] Request device [0000:3a:00.1] fault addr 0xffe0 [fault reason 0x85] SM: No write permission for Write/AtomicOp request\n',
  );
  const out = d.push('6,2,2,-;e1000e 0000:00:02.0 eth0: link up\n');
  assert.equal(out.length, 1);
  const f = out[0] as DmaFault;
  assert.deepEqual([f.device, f.pasid, f.reason, f.access], ['0000:3a:00.1', 3, 0x85, 'write']);
  assert.equal(f.reasonName, intelFaultReason(0x85).name);
});

test('truncated and malformed lines are counted unparsed and kept raw', () => {
  const d = new KmsgDecoder();
  const truncated = 'DMAR: [DMA Read PASID 0x0] Request device [00:05.0] fault addr 0x55';
  const out = [
    ...d.push(`3,1,1,-;${truncated}\n`),
    ...d.push('garbage without a header'),
    ...d.push('3,2,2,-;AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:05.0 domain=0x0001 addr'),
    ...d.push(
      '3,3,3,-;arm-smmu-v3 arm-smmu-v3.0.auto: event: F_TRANSLATION client: 0000:00:01.0 sid: 0x8\n',
    ),
  ];
  assert.deepEqual(
    out.map((e) => e.type),
    ['unparsed', 'unparsed', 'unparsed', 'unparsed'],
  );
  assert.equal(out[0]!.type === 'unparsed' && out[0]!.raw, truncated);
  assert.equal(out[1]!.type === 'unparsed' && out[1]!.raw, 'garbage without a header');
  assert.equal(d.counters.unparsed, 4);
});

test('kmsg sequence: a gap is reported with its size, a repeated record is not processed twice', () => {
  const d = new KmsgDecoder();
  const line = (seq: number) =>
    `3,${seq},${seq},-;DMAR: [DMA Read PASID 0x0] Request device [00:05.0] fault addr 0x${seq.toString(16)}000 [fault reason 0x06] PTE Read access is not set\n`;
  const out = [
    ...d.push(line(5)),
    ...d.push(line(6)),
    ...d.push(line(6)),
    ...d.push(line(10)),
    ...d.flush(),
  ];
  assert.deepEqual(
    out.map((e) => e.type),
    ['dma-fault', 'dma-fault', 'kmsg-gap', 'dma-fault'],
  );
  assert.deepEqual(out[2], { type: 'kmsg-gap', from: 7, to: 9, missed: 3 });
  assert.equal(d.counters.duplicates, 1);
  assert.equal(d.lastSeq, 10);
});

test('kmsg record: header fields, dictionary lines and \\x escapes', () => {
  const r = parseKmsgRecord(
    '3,492,29570428,-,caller=T12;arm-smmu-v3 x: \\x090x0000000000000010\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:05.0\n',
  );
  assert.ok(r.ok);
  assert.equal(r.record.level, 3);
  assert.equal(r.record.seq, 492);
  assert.equal(r.record.usec, 29570428);
  assert.deepEqual(r.record.dict, { SUBSYSTEM: 'pci', DEVICE: '+pci:0000:00:05.0' });
  assert.equal(parseKmsgRecord('3,x,1,-;m').ok, false);
});

test('Intel reason table: every code has a name and meaning; unknown codes say so', () => {
  assert.equal(intelFaultReason(6).name, 'PTE Read access is not set');
  assert.equal(intelFaultReason(5).name, 'PTE Write access is not set');
  assert.equal(intelFaultReason(0x59).name, 'SM: Present bit in PASID Table Entry is clear');
  assert.equal(intelFaultReason(0x22).name, 'Present field in the IRTE entry is clear');
  for (const c of intelFaultReasonCodes()) assert.ok(intelFaultReason(c).meaning.length > 10);
  assert.equal(intelFaultReason(0x3f).name, 'Unknown');
});

test('AMD-Vi: every event line shape from iommu_print_event / report_page_fault', () => {
  const d = new KmsgDecoder();
  const lines = [
    'AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:05.0 domain=0x0000 address=0xfffffffdf8000000 flags=0x0000]',
    'vfio-pci 0000:03:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000b address=0x5550000 flags=0x0030]',
    'AMD-Vi: Event logged [IO_PAGE_FAULT device=00:14.0 domain=0x0002 address=0x1000 flags=0x0020]',
    'iommu ivhd0: AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=0000:00:05.0 pasid=0x00000 address=0x0 flags=0x0000]',
    'iommu ivhd0: AMD-Vi: Event logged [INVALID_DEVICE_REQUEST device=0000:41:00.0 pasid=0x00003 address=0xfee00000 flags=0x0002]',
    'iommu ivhd1: AMD-Vi: Event logged [PAGE_TAB_HARDWARE_ERROR device=0001:02:00.0 pasid=0x0000 address=0x12345000 flags=0x0000]',
    'iommu ivhd0: AMD-Vi: Event logged [DEV_TAB_HARDWARE_ERROR device=0000:00:05.0 address=0x1000 flags=0x0000]',
    'iommu ivhd0: AMD-Vi: Event logged [IOTLB_INV_TIMEOUT device=0000:41:00.0 address=0x2000]',
    'iommu ivhd0: AMD-Vi: Event logged [INVALID_PPR_REQUEST device=0000:41:00.0 pasid=0x00001 address=0x7000 flags=0x0000 tag=0x003]',
    'iommu ivhd0: AMD-Vi: Event logged [ILLEGAL_COMMAND_ERROR address=0x88000]',
  ];
  const out = faults(lines.flatMap((l, i) => d.push(`3,${i},${i},-;${l}\n`)));
  assert.equal(out.length, lines.length);
  assert.deepEqual(
    out.map((f) => [f.reasonName, f.reason, f.device, f.unit, f.access]),
    [
      ['IO_PAGE_FAULT', 2, '0000:00:05.0', null, 'read'],
      ['IO_PAGE_FAULT', 2, '0000:03:00.0', null, 'write'],
      ['IO_PAGE_FAULT', 2, '0000:00:14.0', null, 'write'],
      ['ILLEGAL_DEV_TABLE_ENTRY', 1, '0000:00:05.0', 'ivhd0', 'read'],
      ['INVALID_DEVICE_REQUEST', 8, '0000:41:00.0', 'ivhd0', 'exec'],
      ['PAGE_TAB_HARDWARE_ERROR', 4, '0001:02:00.0', 'ivhd1', 'read'],
      ['DEV_TAB_HARDWARE_ERROR', 3, '0000:00:05.0', 'ivhd0', 'read'],
      ['IOTLB_INV_TIMEOUT', 7, '0000:41:00.0', 'ivhd0', 'unknown'],
      ['INVALID_PPR_REQUEST', 9, '0000:41:00.0', 'ivhd0', 'read'],
      ['ILLEGAL_COMMAND_ERROR', 5, null, 'ivhd0', 'unknown'],
    ],
  );
  assert.equal(out[0]!.extra.domain, '0x0000');
  assert.match(out[0]!.meaning, /not mapped/);
  assert.match(out[1]!.meaning, /does not allow/);
  assert.equal(out[1]!.extra.flagNames, 'PR,RW');
  assert.equal(out[4]!.pasid, 3);
  assert.equal(out[8]!.extra.tag, '0x003');
  assert.equal(d.counters.unparsed, 0);
});

test('SMMUv3: raw dwords plus the decoded lines make one fault; raw alone decodes too', () => {
  const u = 'arm-smmu-v3 arm-smmu-v3.0.auto';
  const d = new KmsgDecoder();
  const modern = [
    `${u}: event 0x10 received:`,
    `${u}: \\x090x0000000800000010`,
    `${u}: \\x090x0000020880000000`,
    `${u}: \\x090x0000000008000000`,
    `${u}: \\x090x0000000000000000`,
    `${u}: event: F_TRANSLATION client: 0000:00:01.0 sid: 0x8 ssid: 0 iova: 0x8000000 ipa: 0`,
    `${u}: unpriv data read s1 "Input address caused fault" stag: 0`,
  ];
  const out = modern.flatMap((l, i) => d.push(`3,${i},${i},-;${l}\n`));
  assert.equal(out.length, 1);
  const f = out[0] as DmaFault;
  assert.deepEqual(
    [f.vendor, f.unit, f.device, f.streamId, f.addr, f.access, f.reason, f.reasonName],
    ['arm', 'arm-smmu-v3.0.auto', '0000:00:01.0', 8, '0x8000000', 'read', 0x10, 'F_TRANSLATION'],
  );
  assert.equal(f.extra.class, 'Input address caused fault');
  assert.equal(f.raw.length, 7);
  // step: an older kernel prints only the raw record: decoded from the dwords at flush
  const old = new KmsgDecoder();
  const rawOnly = [
    `${u}: event 0x10 received:`,
    `${u}: \\x090x0000001200001810`, // sid 0x12, SSV, ssid 1
    `${u}: \\x090x0000000000000000`, // RnW=0: write
    `${u}: \\x090x00000000dead0000`,
    `${u}: \\x090x0000000000000000`,
  ];
  const o = [...rawOnly.flatMap((l, i) => old.push(`3,${i},${i},-;${l}\n`)), ...old.flush()];
  const g = o[0] as DmaFault;
  assert.deepEqual(
    [g.streamId, g.pasid, g.addr, g.access, g.reasonName],
    [0x12, 1, '0xdead0000', 'write', 'F_TRANSLATION'],
  );
  // step: a configuration event has no address line
  const c = new KmsgDecoder();
  const bad = c.push(`3,1,1,-;${u}: event: C_BAD_STE client: (unassigned sid) sid: 0x20 ssid: 0\n`);
  assert.equal(bad.length, 1);
  assert.deepEqual([(bad[0] as DmaFault).reason, (bad[0] as DmaFault).device], [0x04, null]);
});
