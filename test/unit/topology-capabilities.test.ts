// The full capability lists of the Host view's device pane (lspci -vvv
// style) on the VM capture and the hand-made tree, broken lists, and the
// Host view's device search (by capability, PRI status, driver, address,
// vendor text) with its highlight pieces.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { HostDevice, HostTopology } from '../../main/common/host-topology';
import {
  highlightPieces,
  matchDevice,
  queryTerms,
  upstreamBridge,
} from '../../main/common/device-search';
import { capabilityList } from '../../main/node/topology/pci-cap-list';
import { scanTopology } from '../../main/node/topology/scan';
import { makeConfig } from './topology-tree';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const VTD = path.join(fixtures, 'sysfs-vtd');
const CAPS = path.join(fixtures, 'sysfs-caps');

const dev = (t: HostTopology, a: string): HostDevice => {
  const d = t.devices.find((x) => x.address === a);
  assert.ok(d, `device ${a} in the scan`);
  return d;
};
const summary = (d: HostDevice) =>
  d.capabilities?.map(
    (c) => `${c.space}@0x${c.offset.toString(16)} ${c.name}: ${c.fields.join(' ')}`,
  );
const view = (b: Buffer) => new DataView(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));

test('VM capture: the full-config virtio device lists both capability lists in order, decoded', () => {
  const t = scanTopology({ sysfsRoot: VTD, pciIds: null });
  assert.deepEqual(summary(dev(t, '0000:00:04.0')), [
    'std@0xc8 Power Management: version 2 state D0 NoSoftRst-',
    'std@0xd0 MSI: Enable- count 1/1 64bit+ Maskable-',
    'std@0xe0 PCI Express: v1 Root Complex Integrated Endpoint',
    'std@0xa0 MSI-X: Enable+ Masked- table size 5 table BAR 3 offset 0x0 PBA BAR 3 offset 0x2000',
    'ext@0x100 Advanced Error Reporting: ',
    'ext@0x140 Device Serial Number: serial 52-54-00-ff-ff-12-34-56',
  ]);
  assert.equal(dev(t, '0000:00:04.0').capabilities?.[4]?.version, 2);
});

test('VM capture: a 256-byte config space lists the standard capabilities only', () => {
  const t = scanTopology({ sysfsRoot: VTD, pciIds: null });
  assert.deepEqual(summary(dev(t, '0000:00:05.0')), [
    'std@0x40 MSI: Enable- count 1/1 64bit+ Maskable-',
  ]);
  // The host bridge has a capability list bit clear: an empty list, known to be empty.
  assert.deepEqual(dev(t, '0000:00:00.0').capabilities, []);
});

test('caps tree: PRI status bits are in the list entry; a header-only device has no list (unknown)', () => {
  const t = scanTopology({ sysfsRoot: CAPS, pciIds: null });
  const pri = dev(t, '0000:02:00.0').capabilities?.find((c) => c.id === 0x13 && c.space === 'ext');
  assert.deepEqual(pri?.fields, ['Enable+', 'RF+ UPRGI+ Stopped+ PASID-required+']);
  assert.equal(dev(t, '0000:03:00.0').configAccess, 'header-only');
  assert.equal(dev(t, '0000:03:00.0').capabilities, undefined);
  assert.equal(dev(t, 'soc:dma@1000').capabilities, undefined);
});

test('capability lists: a looping standard list and a looping extended list end, unknown ids are named', () => {
  const b = makeConfig({
    vendor: 0x8086,
    device: 1,
    classCode: 0,
    ats: { enabled: true },
    pri: { enabled: false },
    loop: true,
  });
  b.writeUInt8(0x40, 0x41); // PCIe capability points back at itself
  const caps = capabilityList(view(b))!;
  assert.deepEqual(
    caps.map((c) => `${c.space} ${c.id}`),
    ['std 16', 'ext 15', 'ext 19'],
  );
  const odd = Buffer.from(b);
  odd.writeUInt8(0x77, 0x40);
  assert.equal(capabilityList(view(odd))![0]!.name, 'unknown capability 0x77');
  assert.equal(capabilityList(view(b.subarray(0, 64))), undefined);
});

test('search: "PRI stopped" finds only the device whose page requests stopped', () => {
  const t = scanTopology({ sysfsRoot: CAPS, pciIds: null });
  const hits = (q: string) =>
    t.devices.filter((d) => matchDevice(d, queryTerms(q)) !== null).map((d) => d.address);
  assert.deepEqual(hits('PRI stopped'), ['0000:02:00.0']);
  assert.deepEqual(hits('pasid'), ['0000:01:00.0', '0000:01:00.1', '0000:02:00.0', '0000:06:00.0']);
  assert.deepEqual(hits('vfio-pci'), ['0000:02:00.0']);
  assert.deepEqual(hits('0000:01:00'), ['0000:01:00.0', '0000:01:00.1']);
  assert.deepEqual(hits('PRI ATS nomatchword'), []);
  assert.equal(hits('').length, t.devices.length);
  const set = matchDevice(dev(t, '0000:02:00.0'), queryTerms('pri STOPPED'))!;
  assert.deepEqual([...set].sort(), ['cap:PRI', 'pri:stopped']);
});

test('search: vendor text from pci.ids matches, and the highlight marks every occurrence', () => {
  const ids = {
    vendor: (v: number) => (v === 0x8086 ? 'Intel Corporation' : undefined),
    device: () => undefined,
    className: () => undefined,
  };
  const t = scanTopology({ sysfsRoot: VTD, pciIds: ids });
  const intel = t.devices.filter((d) => matchDevice(d, ['intel']) !== null);
  assert.ok(intel.length > 0 && intel.every((d) => d.vendorName === 'Intel Corporation'));
  assert.ok(intel.length < t.devices.length, 'the edu device (vendor 1234) is not Intel');
  assert.deepEqual(highlightPieces('Intel intel x', ['intel']), [
    { text: 'Intel', hit: true },
    { text: ' ', hit: false },
    { text: 'intel', hit: true },
    { text: ' x', hit: false },
  ]);
  assert.deepEqual(highlightPieces('abc', []), [{ text: 'abc', hit: false }]);
});

test('upstream bridge: the parent PCI device of the sysfs path, none on the root bus', () => {
  const base = scanTopology({ sysfsRoot: CAPS, pciIds: null }).devices[0]!;
  assert.equal(
    upstreamBridge({ ...base, sysfsPath: 'devices/pci0000:00/0000:00:1c.0/0000:01:00.0' }),
    '0000:00:1c.0',
  );
  assert.equal(upstreamBridge(base), null);
});
