// Snapshot differences and the live watcher: a bind to vfio-pci, a hotplug,
// a removal and a group type change each produce their change event.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { TopologyUpdate } from '../../main/common/host-topology';
import { diffTopology } from '../../main/node/topology/diff';
import { scanTopology } from '../../main/node/topology/scan';
import { TopologyWatcher } from '../../main/node/topology/watcher';
import { buildTree, capsTreeSpec, devicePath } from './topology-tree';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');

test('diff of the VM snapshots before/after binding edu: one changed device', () => {
  const before = scanTopology({ sysfsRoot: path.join(fixtures, 'sysfs-vtd'), pciIds: null });
  const after = scanTopology({ sysfsRoot: path.join(fixtures, 'sysfs-vtd-vfio'), pciIds: null });
  assert.deepEqual(diffTopology(before, after), [
    { kind: 'changed', entity: 'device', id: '0000:00:05.0', fields: ['driver', 'vfioCdev'] },
  ]);
  assert.deepEqual(diffTopology(after, after), []);
});

function waitUpdate(w: TopologyWatcher): Promise<TopologyUpdate> {
  return new Promise((resolve, reject) => {
    const off = w.onUpdate((u) => {
      off();
      resolve(u);
    });
    setTimeout(() => reject(new Error('no update within 3 s')), 3000).unref();
  });
}

test('watcher: bind, hotplug, removal and group type change fire change events', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'iommuscope-watch-'));
  const spec = capsTreeSpec();
  buildTree(root, spec);
  const w = new TopologyWatcher({ sysfsRoot: root, pciIds: null, intervalMs: 20 });
  try {
    const first = await w.start();
    assert.equal(first.devices.length, spec.devices.length);

    // bind 0000:01:00.1 to vfio-pci with a cdev
    const dir = path.join(root, devicePath({ address: '0000:01:00.1' }));
    fs.symlinkSync('../../bus/pci/drivers/vfio-pci', path.join(dir, 'driver'));
    fs.mkdirSync(path.join(dir, 'vfio-dev/vfio7'), { recursive: true });
    let u = await waitUpdate(w);
    assert.deepEqual(u.changes, [
      { kind: 'changed', entity: 'device', id: '0000:01:00.1', fields: ['driver', 'vfioCdev'] },
    ]);
    assert.equal(u.seq, 1);

    // group type change
    fs.writeFileSync(path.join(root, 'kernel/iommu_groups/12/type'), 'identity\n');
    u = await waitUpdate(w);
    assert.deepEqual(u.changes, [{ kind: 'changed', entity: 'group', id: 12, fields: ['type'] }]);

    // hot-unplug 0000:04:00.0 (group 11)
    fs.rmSync(path.join(root, 'bus/pci/devices/0000:04:00.0'));
    fs.rmSync(path.join(root, 'kernel/iommu_groups/11/devices/0000:04:00.0'));
    fs.rmSync(path.join(root, 'devices/virtual/iommu/dmar1/devices/0000:04:00.0'));
    fs.rmSync(path.join(root, devicePath({ address: '0000:04:00.0' })), { recursive: true });
    u = await waitUpdate(w);
    assert.deepEqual(
      u.changes.map((c) => [c.kind, c.entity, c.id]),
      [
        ['changed', 'unit', 'dmar1'],
        ['changed', 'group', 11],
        ['removed', 'device', '0000:04:00.0'],
      ],
    );
    assert.equal(u.topology.devices.length, spec.devices.length - 1);
  } finally {
    w.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('watcher: hotplug of a new device and group is "added"; bad interval is refused', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'iommuscope-watch-'));
  buildTree(root, { units: [], groups: [], devices: [] });
  const w = new TopologyWatcher({ sysfsRoot: root, pciIds: null, intervalMs: 20 });
  try {
    await w.start();
    const pending = waitUpdate(w);
    buildTree(root, {
      units: [],
      groups: [{ id: 3 }],
      devices: [
        {
          address: '0000:07:00.0',
          group: 3,
          config: { vendor: 0x1234, device: 0x11e8, classCode: 0xff00 },
        },
      ],
    });
    const u = await pending;
    assert.deepEqual(
      u.changes.map((c) => [c.kind, c.entity, c.id]),
      [
        ['added', 'group', 3],
        ['added', 'device', '0000:07:00.0'],
      ],
    );
  } finally {
    w.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  assert.throws(() => new TopologyWatcher({ intervalMs: 5 }), RangeError);
});
