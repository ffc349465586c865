// /proc/interrupts and tracefs format decoding on files captured from the
// test VM (kernels 6.12 and 7.3), and interrupt vector names of every vendor.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  classifyIommuIrq,
  interruptRates,
  iommuInterrupts,
  parseInterrupts,
} from '../../main/common/activity/interrupts';
import { interpretTrace } from '../../main/common/activity/trace-events';
import {
  decodeTraceRecord,
  parseTraceFormat,
  TraceFormatError,
  type TraceFormat,
} from '../../main/common/activity/trace-format';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'activity');
const read = (k: string, f: string) => readFileSync(path.join(fixtures, `kernel-${k}`, f), 'utf8');

function formats(kernel: string): Map<string, TraceFormat> {
  const dir = path.join(fixtures, `kernel-${kernel}`, 'events');
  const out = new Map<string, TraceFormat>();
  for (const f of readdirSync(dir)) {
    const [system, name] = f.replace(/\.format$/, '').split('.');
    const fmt = parseTraceFormat(system!, readFileSync(path.join(dir, f), 'utf8'));
    out.set(`${system}:${name}`, fmt);
  }
  return out;
}

/** Builds a raw record the way the kernel lays it out, from a parsed format. */
function encode(fmt: TraceFormat, values: Record<string, number | bigint | string>): Uint8Array {
  const fixedEnd = Math.max(...fmt.fields.map((f) => f.offset + f.size));
  const strings: [number, Uint8Array][] = [];
  let tail = fixedEnd;
  for (const f of fmt.fields) {
    if (f.loc && typeof values[f.name] === 'string') {
      const b = new TextEncoder().encode(`${values[f.name] as string}\0`);
      strings.push([tail, b]);
      tail += b.length;
    }
  }
  const bytes = new Uint8Array(tail);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, fmt.id, true);
  let si = 0;
  for (const f of fmt.fields) {
    const v = values[f.name];
    if (f.loc) {
      if (typeof v !== 'string') continue;
      const [off, b] = strings[si++]!;
      bytes.set(b, off);
      view.setUint32(f.offset, (b.length << 16) | off, true);
    } else if (v !== undefined && f.name !== 'common_type') {
      if (f.size === 8) view.setBigUint64(f.offset, BigInt(v), true);
      else if (f.size === 4) view.setUint32(f.offset, Number(v), true);
      else if (f.size === 2) view.setUint16(f.offset, Number(v), true);
      else if (f.size === 1) view.setUint8(f.offset, Number(v));
    }
  }
  return bytes;
}

for (const kernel of ['6.12', '7.3']) {
  test(`kernel ${kernel}: /proc/interrupts has dmar0's fault vector, with a rate between samples`, () => {
    const before = iommuInterrupts(read(kernel, 'interrupts-before'));
    const after = iommuInterrupts(read(kernel, 'interrupts-after'));
    assert.deepEqual(
      after.map((l) => [l.unit, l.kind, l.chip, l.name]),
      [['dmar0', 'fault', 'DMAR-MSI', 'dmar0']],
    );
    const parsed = parseInterrupts(read(kernel, 'interrupts-after'));
    assert.equal(parsed.cpus, 2);
    assert.deepEqual(parsed.unparsed, []);
    const r = interruptRates(before, after, 2);
    assert.equal(r[0]!.perSecond, (after[0]!.total - before[0]!.total) / 2);
    assert.ok(after[0]!.total >= before[0]!.total);
  });

  test(`kernel ${kernel}: every IOMMU tracepoint format parses and records decode by its offsets`, () => {
    const f = formats(kernel);
    for (const name of [
      'iommu:map',
      'iommu:unmap',
      'intel_iommu:qi_submit',
      'intel_iommu:cache_tag_flush_range',
    ])
      assert.ok(f.has(name), `${name} missing from the ${kernel} fixtures`);
    const map = f.get('iommu:map')!;
    const rec = decodeTraceRecord(
      map,
      encode(map, { iova: 0x5550000n, paddr: 0x1234000n, size: 4096n }),
    );
    assert.deepEqual(interpretTrace('iommu:map', rec), {
      type: 'map',
      iova: '0x5550000',
      size: 4096,
    });
    const qi = f.get('intel_iommu:qi_submit')!;
    const q = decodeTraceRecord(
      qi,
      encode(qi, { qw0: 0x12n, qw1: 0n, qw2: 0n, qw3: 0n, iommu: 'dmar0' }),
    );
    assert.deepEqual(interpretTrace('intel_iommu:qi_submit', q), {
      type: 'invalidation',
      unit: 'dmar0',
      kind: 'iotlb_inv',
    });
    const flush = f.get('intel_iommu:cache_tag_flush_range')!;
    const fl = decodeTraceRecord(
      flush,
      encode(flush, {
        iommu: 'dmar0',
        dev: '0000:00:05.0',
        type: 0,
        domain_id: 7,
        pasid: 0,
        start: 0x1000n,
        end: 0x1fffn,
        addr: 0x1000n,
        mask: 3n,
      }),
    );
    assert.equal(fl.mask, 3n);
    assert.equal(fl.dev, '0000:00:05.0');
    assert.equal(interpretTrace('intel_iommu:cache_tag_flush_range', fl)?.type, 'iotlb-flush');
    const grp = f.get('iommu:add_device_to_group')!;
    const g = decodeTraceRecord(grp, encode(grp, { gid: 5, device: '0000:00:05.0' }));
    assert.deepEqual(interpretTrace('iommu:add_device_to_group', g), {
      type: 'group-add',
      group: 5,
      device: '0000:00:05.0',
    });
  });
}

test('the two kernels lay out cache_tag_flush_range differently: offsets come from the format', () => {
  const mask612 = formats('6.12')
    .get('intel_iommu:cache_tag_flush_range')!
    .fields.find((x) => x.name === 'mask');
  const mask73 = formats('7.3')
    .get('intel_iommu:cache_tag_flush_range')!
    .fields.find((x) => x.name === 'mask');
  assert.deepEqual([mask612?.offset, mask73?.offset], [56, 48]);
});

test('a record shorter than its format, or a string outside it, is refused with the reason', () => {
  const map = formats('7.3').get('iommu:map')!;
  assert.throws(() => decodeTraceRecord(map, new Uint8Array(12)), TraceFormatError);
  const att = formats('7.3').get('iommu:attach_device_to_domain')!;
  const bad = new Uint8Array(16);
  new DataView(bad.buffer).setUint32(8, (200 << 16) | 12, true);
  assert.throws(() => decodeTraceRecord(att, bad), /outside the record/);
  assert.throws(() => parseTraceFormat('iommu', 'nonsense'), /no name\/ID/);
});

test('vector names: VT-d fault/PRQ, AMD-Vi event/PPR/GA, SMMUv3 evtq/priq/gerror', () => {
  const line = (name: string) => ({ irq: '30', perCpu: [1], total: 1, chip: 'PCI-MSI', name });
  const c = (name: string) => {
    const r = classifyIommuIrq(line(name));
    return r ? [r.unit, r.kind] : null;
  };
  assert.deepEqual(c('dmar1'), ['dmar1', 'fault']);
  assert.deepEqual(c('dmar1-prq'), ['dmar1', 'page-request']);
  assert.deepEqual(c('AMD-Vi2-Evt'), ['ivhd2', 'event-log']);
  assert.deepEqual(c('AMD-Vi0-PPR'), ['ivhd0', 'page-request']);
  assert.deepEqual(c('AMD-Vi'), ['ivhd0', 'event-log']);
  assert.deepEqual(c('arm-smmu-v3-evtq'), ['arm-smmu-v3', 'event-log']);
  assert.deepEqual(c('arm-smmu-v3-priq'), ['arm-smmu-v3', 'page-request']);
  assert.deepEqual(c('arm-smmu-v3-gerror'), ['arm-smmu-v3', 'global-error']);
  assert.equal(c('eth0'), null);
  const p = parseInterrupts(
    '           CPU0       CPU1\n  9:   0   1   IO-APIC   9-fasteoi   acpi\nNMI:  0  0   Non-maskable interrupts\nbroken line\n',
  );
  assert.deepEqual(
    p.lines.map((l) => [l.irq, l.total, l.name]),
    [
      ['9', 1, 'acpi'],
      ['NMI', 0, 'Non-maskable interrupts'],
    ],
  );
  assert.deepEqual(p.unparsed, ['broken line']);
});
