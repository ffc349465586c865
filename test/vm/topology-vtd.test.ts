// The topology scan against the real 6.12 kernel with emulated VT-d (-i vtd):
// dmar0's cap/ecap decode, the edu device's group, and what binding it to
// vfio-pci changes: driver, cdev, viability and a live change event.
import assert from 'node:assert/strict';
import type { HostTopology, TopologyChange } from '../../main/common/host-topology';
import { kernelMatrix } from './kernel-matrix';
const EDU = '0000:00:05.0';

interface Run {
  status: number;
  doc?: HostTopology;
  stderr: string;
}
interface Result {
  before: Run;
  unprivileged: Run;
  after: Run;
  vfioOnly: Run;
  all: Run;
  missing: { status: number; stderr: string };
  events: TopologyChange[];
  eventMs: number;
  text: string;
  line: string;
  cdevExists: boolean;
}

kernelMatrix(
  'groups reports dmar0, edu group/cdev/viability, and the bind as a change event (-i vtd)',
  (k) => {
    const r = k.run('vtd', ['node', 'dist/test/vm-guest/topology-bind.js']);
    const line = r.output.split('\n').find((l) => l.startsWith('TOPOLOGY-RESULT '));
    assert.ok(
      line,
      `no TOPOLOGY-RESULT in VM output (status ${r.status}):\n${r.output.slice(-3000)}`,
    );
    const res = JSON.parse(line.slice('TOPOLOGY-RESULT '.length)) as Result;

    // step: the kernel's dmar0 decodes as scalable mode with caching mode, no PASID/PRS
    const all = res.all.doc;
    assert.ok(all, `groups --json failed: ${res.all.stderr}`);
    const dmar0 = all.units.find((u) => u.name === 'dmar0');
    assert.equal(dmar0?.kind, 'intel-vtd');
    assert.equal(dmar0?.summary.scalableMode, true);
    assert.equal(dmar0?.summary.cachingMode, true);
    assert.equal(dmar0?.summary.pasid, false);
    assert.equal(dmar0?.summary.pageRequests, false);
    assert.equal(dmar0?.summary.domainsSupported, 65536);
    assert.ok((dmar0?.summary.domainsUsed ?? 0) > 0);
    assert.ok(dmar0?.devices.includes(EDU));
    assert.deepEqual(all.problems, []);

    // step: before the bind edu is unbound, alone in its group, viable, no cdev
    const b = res.before.doc?.devices[0];
    assert.equal(res.before.status, 0);
    assert.equal(b?.address, EDU);
    assert.equal(b?.driver, null);
    assert.equal(b?.vfioCdev, null);
    const group = b?.group;
    assert.equal(typeof group, 'number');
    assert.deepEqual(
      res.before.doc?.groups.map((g) => [g.id, g.devices, g.viability.viable]),
      [[group, [EDU], true]],
    );
    assert.equal(b?.configAccess, 'legacy');
    assert.deepEqual(
      [b?.ats.supported, b?.pri.supported, b?.pasid.supported],
      [false, false, false],
    );

    // step: as an ordinary user config space stops at 64 bytes: unknown, not absent
    const u = res.unprivileged.doc?.devices[0];
    assert.equal(u?.configAccess, 'header-only');
    assert.equal(u?.ats.supported, null);
    assert.match(u?.ats.unknown ?? '', /CAP_SYS_ADMIN/);
    assert.equal(u?.vendorId, 0x1234);

    // step: the bind fires a change event on edu naming driver and vfioCdev
    const ev = res.events.find((e) => e.entity === 'device' && e.id === EDU);
    assert.deepEqual(
      ev,
      { kind: 'changed', entity: 'device', id: EDU, fields: ['driver', 'vfioCdev'] },
      `events: ${JSON.stringify(res.events)}`,
    );

    // step: after the bind the CLI reports vfio-pci, cdev vfio0 (which exists) and a viable group
    const a = res.after.doc?.devices[0];
    assert.equal(a?.driver, 'vfio-pci');
    assert.equal(a?.vfioCdev, 'vfio0');
    assert.equal(res.cdevExists, true);
    assert.equal(res.after.doc?.groups[0]?.viability.viable, true);
    assert.deepEqual(
      res.vfioOnly.doc?.groups.map((g) => g.id),
      [group],
    );
    assert.match(res.text, new RegExp(`IOMMU group ${group} .*viable for VFIO`));
    // The default is one ls-iommu-style line per device.
    assert.match(
      res.line,
      new RegExp(
        `^IOMMU group ${group}\\s+0000:00:05\\.0\\s.*\\[1234:11e8\\].*driver vfio-pci.*\\bviable\\b`,
      ),
    );
    assert.match(res.text, /0000:00:05\.0\s+1234:11e8\s+00ff\s+vfio-pci\s+vfio0/);

    // step: groups that are not viable say which driver holds them
    const g6 = all.groups.find((g) => g.devices.includes('0000:00:1f.2'));
    assert.equal(g6?.viability.viable, false);
    assert.match(g6?.viability.reasons.join('\n') ?? '', /0000:00:1f\.2 is bound to ahci/);

    // negative: an unknown device is exit 1 with the known addresses
    assert.equal(res.missing.status, 1);
    assert.match(res.missing.stderr, /no device 0000:00:09\.0 .*known: .*0000:00:05\.0/);
  },
);
