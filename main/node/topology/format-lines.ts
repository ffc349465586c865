// `iommuscope groups` default output, like ls-iommu: one line per device with
// everything needed to grep it (group, address, class, [vendor:device],
// revision, driver, ATS/PRI/PASID, the group's VFIO verdict). -v adds the
// lspci-style capability decode under each line (ATS STU and queue depth,
// PRI outstanding capacity/allocation and status, PASID width and
// exec/priv); -vv adds ACS and the upstream bridge.
import type { HostDevice, HostTopology, IommuGroup } from '../../common/host-topology';
import { IOMMU_KIND_LABELS } from '../../common/host-topology';
import { capCell, pasidCell, priCell, unitVersion } from './format';
import { upstreamBridge } from '../../common/device-search';

const hex = (n: number | undefined, w: number): string =>
  n === undefined ? '?'.repeat(w) : n.toString(16).padStart(w, '0');

const yesNo = (s: boolean | undefined, e: boolean | undefined): string =>
  s ? (e ? 'supported, enabled' : 'supported, disabled') : 'not supported';

function deviceCells(d: HostDevice, g: IommuGroup | undefined): string[] {
  const name = [d.vendorName, d.deviceName].filter(Boolean).join(' ');
  const klass = d.classCode === undefined ? '' : `[${hex(d.classCode >> 8, 4)}]`;
  const ids = d.vendorId === undefined ? '' : `[${hex(d.vendorId, 4)}:${hex(d.deviceId, 4)}]`;
  const cells = [
    `IOMMU group ${d.group ?? '-'}`,
    d.address,
    klass || '[----]',
    ids || '[----:----]',
    `rev ${d.revision === undefined ? '??' : hex(d.revision, 2)}`,
    `driver ${d.driver ?? '-'}`,
    `ATS ${capCell(d.ats)}`,
    `PRI ${priCell(d.pri)}`,
    `PASID ${pasidCell(d.pasid)}`,
    g ? (g.viability.viable ? 'viable' : 'NOT-viable') : 'no-group',
  ];
  cells.push(d.className ? `${name || '?'} (${d.className})` : name);
  return cells;
}

/** Cells padded to their column's width (the last one, the name, is not padded). */
function aligned(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function capabilityLines(d: HostDevice): string[] {
  const out: string[] = [];
  const a = d.ats;
  if (a.supported) {
    const stu = a.stu === undefined ? '?' : `${a.stu} (${4 << a.stu} KiB)`;
    out.push(
      `ATS: ${yesNo(a.supported, a.enabled ?? undefined)}, STU ${stu}, invalidate queue depth ${a.invalidateQueueDepth ?? '?'}`,
    );
  } else
    out.push(`ATS: ${a.supported === null ? `unknown (${a.unknown ?? '?'})` : 'not supported'}`);
  const p = d.pri;
  if (p.supported) {
    const s = p.status;
    const status = s
      ? [
          s.responseFailure && 'RF',
          s.uprgi && 'UPRGI',
          s.stopped && 'S',
          s.prgResponsePasidRequired && 'PRPR',
        ]
          .filter(Boolean)
          .join(',') || 'clear'
      : '?';
    out.push(
      `PRI: ${yesNo(p.supported, p.enabled ?? undefined)}, outstanding capacity ${p.outstandingCapacity ?? '?'}, ` +
        `allocation ${p.outstandingAllocation ?? '?'}, status ${status}`,
    );
  } else out.push(`PRI: ${p.supported === null ? 'unknown' : 'not supported'}`);
  const x = d.pasid;
  if (x.supported) {
    out.push(
      `PASID: ${yesNo(x.supported, x.enabled ?? undefined)}, ${x.maxWidth ?? '?'} bits, ` +
        `exec ${yesNo(x.execSupported, x.execEnabled)}, priv ${yesNo(x.privSupported, x.privEnabled)}`,
    );
  } else out.push(`PASID: ${x.supported === null ? 'unknown' : 'not supported'}`);
  if (d.vfioCdev) out.push(`VFIO cdev: /dev/vfio/devices/${d.vfioCdev}`);
  return out;
}

function extraLines(d: HostDevice): string[] {
  const acs = d.acs;
  const acsLine = !acs
    ? 'ACS: unknown (needs the full config space)'
    : !acs.supported
      ? 'ACS: not supported'
      : `ACS: supports ${acs.capabilities.join(' ') || '-'}; enabled ${acs.controls.join(' ') || '-'}`;
  return [acsLine, `upstream bridge: ${upstreamBridge(d) ?? '- (root bus)'}`];
}

export function formatDeviceLines(t: HostTopology, verbosity: 0 | 1 | 2): string {
  const groups = new Map(t.groups.map((g) => [g.id, g]));
  const out: string[] = [];
  if (verbosity > 0) {
    for (const u of t.units) {
      const v = u.registers.version ? `  version ${unitVersion(u.registers.version)}` : '';
      out.push(
        `IOMMU unit ${u.name}  ${IOMMU_KIND_LABELS[u.kind]}${v}  ${u.devices.length} devices`,
      );
    }
  }
  const devices = [...t.devices].sort(
    (a, b) => (a.group ?? 1e9) - (b.group ?? 1e9) || a.address.localeCompare(b.address),
  );
  const lines = aligned(
    devices.map((d) => deviceCells(d, d.group === null ? undefined : groups.get(d.group))),
  );
  devices.forEach((d, i) => {
    out.push(lines[i]!);
    const details = [
      ...(verbosity > 0 ? capabilityLines(d) : []),
      ...(verbosity > 1 ? extraLines(d) : []),
    ];
    for (const l of details) out.push(`    ${l}`);
    if (verbosity > 0) for (const p of d.problems) out.push(`    ! ${p.message}`);
  });
  if (verbosity > 0) {
    for (const g of t.groups) for (const r of g.viability.reasons) out.push(`group ${g.id}: ${r}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
