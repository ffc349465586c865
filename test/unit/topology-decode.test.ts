// Decoders of the topology scan: VT-d cap/ecap, AMD-Vi cap/EFR, PCI config
// space (ATS/PRI/PASID in each state), reserved regions, VFIO viability, pci.ids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TopologyProblem } from '../../main/common/host-topology';
import { decodeAmdUnit } from '../../main/node/topology/amd-cap';
import { decodeIntelUnit } from '../../main/node/topology/intel-cap';
import { decodeConfig } from '../../main/node/topology/pci-config';
import { parsePciIds } from '../../main/node/topology/pci-ids';
import { parseReservedRegions } from '../../main/node/topology/scan';
import { groupViability } from '../../main/node/topology/viability';
import { AMD_WITH_PPR, makeConfig, SVA_CAPABLE_VTD } from './topology-tree';

const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
const base = { vendor: 0x8086, device: 0x0b25, classCode: 0x088000 };

test('VT-d: the emulated dmar0 of the test VM decodes to scalable mode, no PASID/PRS', () => {
  const problems: TopologyProblem[] = [];
  const regs = {
    cap: 'd2008c22260286',
    ecap: '480080f00f4a',
    domains_supported: '65536',
    domains_used: '9',
  };
  const u = decodeIntelUnit(regs, 'class/iommu/dmar0/intel-iommu', problems);
  assert.deepEqual(problems, []);
  assert.deepEqual(u.summary, {
    scalableMode: true,
    pasid: false,
    pageRequests: false,
    nested: false,
    firstLevel: false,
    secondLevel: true,
    sva: false,
    cachingMode: true,
    domainsSupported: 65536,
    domainsUsed: 9,
  });
  const f = (k: string) => u.features.find((x) => x.key === k)?.value;
  assert.equal(f('numDomains'), 65536);
  assert.equal(f('mgaw'), 39);
  assert.equal(f('queuedInvalidation'), true);
  assert.equal(f('deviceTlb'), false);
  assert.equal(u.features.find((x) => x.key === 'scalableMode')?.source, 'ecap[43]');
});

test('VT-d: an SVA-capable unit reports PASID width, PRS, nested, first level', () => {
  const u = decodeIntelUnit(SVA_CAPABLE_VTD, 'x', []);
  assert.equal(u.summary.pasid, true);
  assert.equal(u.summary.pasidBits, 20);
  assert.equal(u.summary.pageRequests, true);
  assert.equal(u.summary.nested, true);
  assert.equal(u.summary.firstLevel, true);
  assert.equal(u.summary.sva, true);
  assert.equal(u.summary.cachingMode, false);
  assert.equal(u.features.find((x) => x.key === 'mgaw')?.value, 52);
});

test('VT-d: malformed registers are problems, not exceptions', () => {
  const problems: TopologyProblem[] = [];
  const u = decodeIntelUnit({ cap: 'zz', ecap: '', domains_used: '-1' }, 'u', problems);
  assert.deepEqual(
    problems.map((p) => [p.path, p.code]),
    [
      ['u/cap', 'EPARSE'],
      ['u/ecap', 'EPARSE'],
      ['u/domains_used', 'EPARSE'],
    ],
  );
  assert.deepEqual(u.features, []);
});

test('AMD-Vi: EFR with PPR and GT gives PASID(16) and SVA; cap gives IOTLB', () => {
  const u = decodeAmdUnit(AMD_WITH_PPR, 'class/iommu/ivhd0/amd-iommu', []);
  assert.equal(u.summary.pageRequests, true);
  assert.equal(u.summary.pasid, true);
  assert.equal(u.summary.pasidBits, 16);
  assert.equal(u.summary.sva, true);
  assert.equal(u.features.find((x) => x.key === 'iotlb')?.value, true);
  assert.equal(u.features.find((x) => x.key === 'guestIoProtection')?.value, true);
});

test('AMD-Vi: no GT means no PASID even with PASmax set; bad EFR is a problem', () => {
  const noGt = decodeAmdUnit({ cap: '0', features: ((0xfn << 32n) | 0x2n).toString(16) }, 'a', []);
  assert.equal(noGt.summary.pasid, false);
  assert.equal(noGt.summary.sva, false);
  const problems: TopologyProblem[] = [];
  decodeAmdUnit({ features: 'nothex:0' }, 'a', problems);
  assert.equal(problems[0]?.code, 'EPARSE');
});

test('config: ATS, PRI and PASID all enabled', () => {
  const cfg = makeConfig({
    ...base,
    ats: { enabled: true, stu: 1, queueDepth: 0 },
    pri: { enabled: true, capacity: 512, allocation: 256 },
    pasid: { enabled: true, width: 20, exec: [true, true], priv: [true, false] },
  });
  const d = decodeConfig(ab(cfg), 'c');
  assert.equal(d.access, 'full');
  assert.deepEqual(d.ats, {
    supported: true,
    enabled: true,
    offset: 0x100,
    stu: 1,
    invalidateQueueDepth: 32,
    pageAlignedRequest: false,
    globalInvalidate: false,
  });
  assert.equal(d.pri.enabled, true);
  assert.equal(d.pri.outstandingCapacity, 512);
  assert.equal(d.pri.outstandingAllocation, 256);
  assert.deepEqual(d.pri.status, {
    responseFailure: false,
    uprgi: false,
    stopped: false,
    prgResponsePasidRequired: false,
  });
  assert.deepEqual(
    [
      d.pasid.enabled,
      d.pasid.maxWidth,
      d.pasid.execSupported,
      d.pasid.execEnabled,
      d.pasid.privSupported,
      d.pasid.privEnabled,
    ],
    [true, 20, true, true, true, false],
  );
  assert.equal(d.header?.vendorId, 0x8086);
  assert.equal(d.header?.classCode, 0x088000);
});

test('config: capabilities supported but disabled', () => {
  const d = decodeConfig(
    ab(
      makeConfig({
        ...base,
        ats: { enabled: false, queueDepth: 8 },
        pri: { enabled: false },
        pasid: { enabled: false, width: 16 },
      }),
    ),
    'c',
  );
  assert.deepEqual([d.ats.supported, d.ats.enabled, d.ats.invalidateQueueDepth], [true, false, 8]);
  assert.deepEqual([d.pri.supported, d.pri.enabled], [true, false]);
  assert.deepEqual([d.pasid.supported, d.pasid.enabled, d.pasid.maxWidth], [true, false, 16]);
});

test('config: PRI status bits Response Failure, UPRGI, Stopped, PASID required', () => {
  const d = decodeConfig(
    ab(makeConfig({ ...base, pri: { enabled: true, reset: true, status: 0x8103 } })),
    'c',
  );
  assert.deepEqual(d.pri.status, {
    responseFailure: true,
    uprgi: true,
    stopped: true,
    prgResponsePasidRequired: true,
  });
  assert.equal(d.pri.reset, true);
  const one = decodeConfig(
    ab(makeConfig({ ...base, pri: { enabled: true, status: 0x0100 } })),
    'c',
  );
  assert.deepEqual(one.pri.status, {
    responseFailure: false,
    uprgi: false,
    stopped: true,
    prgResponsePasidRequired: false,
  });
});

test('config: 64 bytes (unprivileged) means unknown, with the reason', () => {
  const d = decodeConfig(ab(makeConfig({ ...base, length: 64, ats: { enabled: true } })), 'c');
  assert.equal(d.access, 'header-only');
  assert.equal(d.ats.supported, null);
  assert.equal(d.pri.enabled, null);
  assert.match(d.pasid.unknown ?? '', /CAP_SYS_ADMIN/);
  assert.equal(d.header?.deviceId, 0x0b25);
});

test('config: 256 bytes is conventional PCI (none) unless it has a PCIe capability (unknown)', () => {
  const pcie = decodeConfig(ab(makeConfig({ ...base, length: 256 })), 'c');
  assert.equal(pcie.access, 'legacy');
  assert.equal(pcie.ats.supported, null);
  const conv = Buffer.from(makeConfig({ ...base, length: 256 }));
  conv.writeUInt16LE(0, 6); // no capability list
  const plain = decodeConfig(ab(conv), 'c');
  assert.deepEqual(
    [plain.ats.supported, plain.pri.supported, plain.pasid.supported],
    [false, false, false],
  );
});

test('config: too short, truncated capability, looping list, empty list', () => {
  const short = decodeConfig(new ArrayBuffer(10), 'c');
  assert.equal(short.access, 'none');
  assert.equal(short.problems[0]?.code, 'ETRUNC');
  const trunc = decodeConfig(
    ab(
      makeConfig({
        ...base,
        ats: { enabled: false },
        pri: { enabled: true },
        offsets: { pri: 0xff8 },
      }),
    ),
    'c',
  );
  assert.equal(trunc.pri.supported, true);
  assert.equal(trunc.pri.enabled, null);
  assert.match(trunc.pri.unknown ?? '', /0xff8/);
  const loop = decodeConfig(
    ab(
      makeConfig({
        ...base,
        ats: { enabled: true },
        pasid: { enabled: false, width: 5 },
        loop: true,
      }),
    ),
    'c',
  );
  assert.equal(loop.ats.enabled, true);
  assert.equal(loop.pasid.maxWidth, 5);
  assert.match(loop.problems[0]?.message ?? '', /loops/);
  const none = decodeConfig(ab(makeConfig(base)), 'c');
  assert.deepEqual(
    [none.ats.supported, none.pri.supported, none.pasid.supported],
    [false, false, false],
  );
  assert.deepEqual(none.problems, []);
});

test('reserved_regions: lines parse, odd lines are problems', () => {
  const problems: TopologyProblem[] = [];
  const r = parseReservedRegions(
    '0x0000000000000000 0x0000000000ffffff direct-relaxable\ngarbage\n0x00000000fee00000 0x00000000feefffff msi\n',
    'g/rr',
    problems,
  );
  assert.deepEqual(r, [
    { start: '0x0000000000000000', end: '0x0000000000ffffff', kind: 'direct-relaxable' },
    { start: '0x00000000fee00000', end: '0x00000000feefffff', kind: 'msi' },
  ]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.code, 'EPARSE');
});

test('viability: vfio/unbound/pcieport are fine; any other driver says why', () => {
  assert.deepEqual(
    groupViability([
      { address: '0000:00:05.0', driver: 'vfio-pci' },
      { address: '0000:00:00.0', driver: null },
      { address: '0000:00:1c.0', driver: 'pcieport' },
    ]),
    { viable: true, reasons: [] },
  );
  assert.equal(groupViability([{ address: 'a', driver: 'mlx5_vfio_pci' }]).viable, true);
  const bad = groupViability([
    { address: '0000:00:1f.2', driver: 'ahci' },
    { address: '0000:00:1f.3', driver: 'vfio-pci' },
  ]);
  assert.equal(bad.viable, false);
  assert.equal(bad.reasons.length, 1);
  assert.match(bad.reasons[0] ?? '', /0000:00:1f\.2 is bound to ahci.*unbind/);
  assert.equal(groupViability([]).viable, false);
});

test('pci.ids: vendor, device and the most specific class name', () => {
  const ids = parsePciIds(
    '# c\n1234  QEMU\n\t11e8  edu\n\t\t1af4 1100  sub\n8086  Intel\nC 01  Mass storage\n\t08  NVM\n\t\t02  NVM Express\nC 00  Unclassified\n\tff  Unknown\n',
  );
  assert.equal(ids.vendor(0x1234), 'QEMU');
  assert.equal(ids.device(0x1234, 0x11e8), 'edu');
  assert.equal(ids.device(0x8086, 0x11e8), undefined);
  assert.equal(ids.className(0x010802), 'NVM Express');
  assert.equal(ids.className(0x010801), 'NVM');
  assert.equal(ids.className(0x019900), 'Mass storage');
  assert.equal(ids.className(0x00ff00), 'Unknown');
});
