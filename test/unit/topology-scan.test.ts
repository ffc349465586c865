// Scanning sysfs trees: the snapshot captured from the VM (-i vtd), the
// hand-made capability tree, and broken trees (missing and odd files,
// permission errors, a device vanishing mid-scan). Both readers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { HostTopology } from '../../main/common/host-topology';
import type { SysfsRequest, SysfsResult } from '../../main/node/native/addon-types';
import { scanTopology, scanTopologyAsync } from '../../main/node/topology/scan';
import { nativeReader, nodeReader, type SysfsReader } from '../../main/node/topology/sysfs-reader';
import { tryLoadAddon } from './addon-available';
import { buildTree, capsTreeSpec } from './topology-tree';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const VTD = path.join(fixtures, 'sysfs-vtd');
const VTD_VFIO = path.join(fixtures, 'sysfs-vtd-vfio');
const CAPS = path.join(fixtures, 'sysfs-caps');

function readers(root: string): SysfsReader[] {
  const out = [nodeReader(root)];
  const addon = tryLoadAddon();
  if (addon && typeof addon.readSysfs === 'function') out.push(nativeReader(root, addon));
  return out;
}

function tmpTree(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'iommuscope-topo-'));
}

const dev = (t: HostTopology, a: string) => {
  const d = t.devices.find((x) => x.address === a);
  assert.ok(d, `device ${a} in the scan`);
  return d;
};

test('VM snapshot (-i vtd): dmar0, 7 groups, 9 devices, edu in group 5 unbound and viable', () => {
  for (const reader of readers(VTD)) {
    const t = scanTopology({ reader, pciIds: null });
    assert.deepEqual(t.problems, [], reader.kind);
    const dmar = t.units.find((u) => u.name === 'dmar0');
    assert.equal(dmar?.kind, 'intel-vtd');
    assert.equal(dmar?.summary.scalableMode, true);
    assert.equal(dmar?.summary.cachingMode, true);
    assert.equal(dmar?.devices.length, 9);
    assert.equal(t.units.find((u) => u.name === 'iommufd_selftest_iommu.0')?.kind, 'other');
    assert.deepEqual(
      t.groups.map((g) => g.id),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(t.devices.length, 9);
    const edu = dev(t, '0000:00:05.0');
    assert.deepEqual(
      [edu.vendorId, edu.deviceId, edu.group, edu.unit, edu.driver, edu.vfioCdev, edu.configAccess],
      [0x1234, 0x11e8, 5, 'dmar0', null, null, 'legacy'],
    );
    assert.deepEqual(
      [edu.ats.supported, edu.pri.supported, edu.pasid.supported],
      [false, false, false],
    );
    const g5 = t.groups.find((g) => g.id === 5);
    assert.equal(g5?.type, 'DMA');
    assert.equal(g5?.viability.viable, true);
    const g6 = t.groups.find((g) => g.id === 6);
    assert.deepEqual(g6?.devices, ['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3']);
    assert.equal(g6?.viability.viable, false);
    assert.equal(g6?.reservedRegions[0]?.kind, 'direct-relaxable');
  }
});

test('VM snapshot with edu bound to vfio-pci: driver, cdev vfio0, still viable', () => {
  const t = scanTopology({ sysfsRoot: VTD_VFIO, pciIds: null });
  const edu = dev(t, '0000:00:05.0');
  assert.equal(edu.driver, 'vfio-pci');
  assert.equal(edu.vfioCdev, 'vfio0');
  assert.equal(t.groups.find((g) => g.id === 5)?.viability.viable, true);
});

test('names come from pci.ids when given', () => {
  const ids = {
    vendor: (v: number) => (v === 0x8086 ? 'Intel' : undefined),
    device: () => 'Dev',
    className: () => 'Cls',
  };
  const t = scanTopology({ sysfsRoot: VTD, pciIds: ids });
  assert.equal(dev(t, '0000:00:1f.2').vendorName, 'Intel');
  assert.equal(dev(t, '0000:00:1f.2').className, 'Cls');
  assert.equal(dev(t, '0000:00:05.0').vendorName, undefined);
});

test('the native and node readers give the same document', (t) => {
  const addon = tryLoadAddon();
  if (!addon || typeof addon.readSysfs !== 'function')
    return t.skip('native addon not built (npm install)');
  for (const root of [VTD, VTD_VFIO, CAPS]) {
    const a = scanTopology({ reader: nodeReader(root), pciIds: null });
    const b = scanTopology({ reader: nativeReader(root, addon), pciIds: null });
    assert.deepEqual({ ...a, takenAt: 0, scanMs: 0 }, { ...b, takenAt: 0, scanMs: 0 }, root);
  }
});

test('hand-made tree: every capability state, AMD and SMMU units, a platform device', async () => {
  const t = await scanTopologyAsync({ sysfsRoot: CAPS, pciIds: null });
  assert.deepEqual(
    t.units.map((u) => [u.name, u.kind]),
    [
      ['dmar1', 'intel-vtd'],
      ['ivhd0', 'amd-vi'],
      ['smmu3.0x0000000009050000', 'arm-smmuv3'],
    ],
  );
  const on = dev(t, '0000:01:00.0');
  assert.deepEqual(
    [on.ats.enabled, on.pri.enabled, on.pasid.enabled, on.pasid.maxWidth],
    [true, true, true, 20],
  );
  const off = dev(t, '0000:01:00.1');
  assert.deepEqual(
    [off.ats.supported, off.ats.enabled, off.pri.enabled, off.pasid.enabled],
    [true, false, false, false],
  );
  const st = dev(t, '0000:02:00.0');
  assert.deepEqual(st.pri.status, {
    responseFailure: true,
    uprgi: true,
    stopped: true,
    prgResponsePasidRequired: true,
  });
  assert.equal(st.vfioCdev, 'vfio3');
  const hdr = dev(t, '0000:03:00.0');
  assert.equal(hdr.configAccess, 'header-only');
  assert.equal(hdr.ats.supported, null);
  assert.equal(hdr.vendorId, 0x144d);
  assert.equal(dev(t, '0000:05:00.0').pri.enabled, null);
  assert.match(dev(t, '0000:06:00.0').problems[0]?.message ?? '', /loops/);
  const plat = dev(t, 'soc:dma@1000');
  assert.deepEqual(
    [plat.bus, plat.driver, plat.group, plat.unit, plat.configAccess],
    ['platform', 'vfio-platform', 14, 'smmu3.0x0000000009050000', 'not-pci'],
  );
  assert.equal(t.groups.find((g) => g.id === 14)?.viability.viable, true);
  assert.equal(t.groups.find((g) => g.id === 10)?.viability.viable, false);
});

test('the committed sysfs-caps fixture is what the tree builder makes', () => {
  const root = tmpTree();
  buildTree(path.join(root, 't'), capsTreeSpec());
  const a = scanTopology({ sysfsRoot: path.join(root, 't'), pciIds: null });
  const b = scanTopology({ sysfsRoot: CAPS, pciIds: null });
  const strip = (x: HostTopology) => ({ ...x, sysfsRoot: '', takenAt: 0, scanMs: 0 });
  assert.deepEqual(strip(a), strip(b));
  fs.rmSync(root, { recursive: true, force: true });
});

test('broken tree: missing and odd files are per-item problems, never a throw', () => {
  const root = tmpTree();
  buildTree(root, capsTreeSpec());
  fs.rmSync(path.join(root, 'devices/virtual/iommu/dmar1/intel-iommu/ecap'));
  fs.writeFileSync(path.join(root, 'devices/virtual/iommu/dmar1/intel-iommu/cap'), 'not hex\n');
  fs.writeFileSync(path.join(root, 'kernel/iommu_groups/11/reserved_regions'), '0x0 0x1\n');
  fs.rmSync(path.join(root, 'kernel/iommu_groups/12/type'));
  fs.mkdirSync(path.join(root, 'kernel/iommu_groups/notanumber'));
  fs.writeFileSync(path.join(root, 'devices/pci0000:00/0000:04:00.0/config'), Buffer.alloc(10));
  const t = scanTopology({ sysfsRoot: root, pciIds: null });
  const dmar = t.units.find((u) => u.name === 'dmar1');
  assert.deepEqual(dmar?.problems.map((p) => p.code).sort(), ['ENOENT', 'EPARSE']);
  assert.equal(t.groups.find((g) => g.id === 11)?.problems[0]?.code, 'EPARSE');
  assert.equal(t.groups.find((g) => g.id === 12)?.type, null);
  assert.equal(t.problems[0]?.code, 'EPARSE');
  const d = dev(t, '0000:04:00.0');
  assert.equal(d.configAccess, 'none');
  assert.equal(d.problems[0]?.code, 'ETRUNC');
  assert.equal(d.vendorId, 0x8086, 'ids fall back to the vendor/device files');
  fs.rmSync(root, { recursive: true, force: true });
});

/** Wraps a reader: `onCall(n, request)` runs before the n-th batch; `edit` may rewrite its result. */
function wrap(
  inner: SysfsReader,
  onCall: (n: number) => void,
  edit?: (r: SysfsResult, q: SysfsRequest) => SysfsResult,
): SysfsReader {
  let n = 0;
  const read = (q: SysfsRequest) => {
    onCall(++n);
    const r = inner.read(q);
    return edit ? edit(r, q) : r;
  };
  return { kind: inner.kind, root: inner.root, read, readAsync: async (q) => read(q) };
}

test('permission errors on files are reported per device, not fatal', () => {
  const eacces = { code: 'EACCES', errno: 13, message: 'open x: Permission denied' };
  const reader = wrap(
    nodeReader(CAPS),
    () => {},
    (r, q) => ({
      ...r,
      binary: r.binary.map((v, i) =>
        (q.binary ?? [])[i]?.includes('01:00.0') ? { ...eacces } : v,
      ),
    }),
  );
  const t = scanTopology({ reader, pciIds: null });
  const d = dev(t, '0000:01:00.0');
  assert.equal(d.problems[0]?.code, 'EACCES');
  assert.equal(d.ats.supported, null);
  assert.match(d.ats.unknown ?? '', /EACCES/);
  assert.equal(d.vendorId, 0x8086);
});

test('a device vanishing between scan phases is dropped with EVANISHED', () => {
  for (const victim of ['0000:01:00.1', 'soc:dma@1000']) {
    const root = tmpTree();
    buildTree(root, capsTreeSpec());
    const spec = capsTreeSpec().devices.find((d) => d.address === victim);
    const dir = path.join(
      root,
      spec?.platform ? `devices/platform/${victim}` : `devices/pci0000:00/${victim}`,
    );
    const reader = wrap(nodeReader(root), (n) => {
      if (n === 2) fs.rmSync(dir, { recursive: true, force: true });
    });
    const t = scanTopology({ reader, pciIds: null });
    assert.equal(
      t.devices.find((d) => d.address === victim),
      undefined,
      victim,
    );
    assert.equal(t.problems.find((p) => p.code === 'EVANISHED')?.message.includes(victim), true);
    assert.ok(t.devices.length >= 6);
    assert.ok(t.groups.every((g) => !g.devices.includes(victim)));
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('no iommu_groups folder: says the IOMMU is off; a missing root throws a clear error', () => {
  const root = tmpTree();
  fs.mkdirSync(path.join(root, 'bus/pci/devices'), { recursive: true });
  const t = scanTopology({ sysfsRoot: root, pciIds: null });
  assert.match(t.problems[0]?.message ?? '', /no IOMMU is active/);
  for (const reader of readers(path.join(root, 'nope'))) {
    assert.throws(() => scanTopology({ reader, pciIds: null }), { code: 'ENOENT' });
  }
  fs.rmSync(root, { recursive: true, force: true });
});

test('native reader: per-entry errors, binary, links, dirs; bad arguments are EARG', (t) => {
  const addon = tryLoadAddon();
  if (!addon || typeof addon.readSysfs !== 'function')
    return t.skip('native addon not built (npm install)');
  const r = addon.readSysfs(VTD, {
    files: ['kernel/iommu_groups/5/type', 'nope'],
    binary: ['bus/pci/devices/0000:00:05.0/config'],
    dirs: ['kernel/iommu_groups/5/devices', 'kernel/iommu_groups/5/type'],
    links: ['bus/pci/devices/0000:00:05.0/iommu_group', 'kernel'],
    maxBytes: 128,
  });
  assert.equal(r.files[0], 'DMA\n');
  assert.deepEqual(r.files[1], {
    code: 'ENOENT',
    errno: 2,
    message: 'open nope: No such file or directory',
  });
  assert.equal((r.binary[0] as ArrayBuffer).byteLength, 128, 'maxBytes caps the read');
  assert.deepEqual(r.dirs[0], ['0000:00:05.0']);
  assert.equal((r.dirs[1] as { code: string }).code, 'ENOTDIR');
  assert.equal(r.links[0], '../../../kernel/iommu_groups/5');
  assert.equal((r.links[1] as { code: string }).code, 'EINVAL');
  assert.throws(() => addon.readSysfs(VTD, { files: [1 as unknown as string] }), { code: 'EARG' });
  assert.throws(() => addon.readSysfs(VTD, { maxBytes: 0 }), { code: 'EARG' });
});
