// Human-readable rendering of a topology document (`iommuscope groups`).
import type {
  CapabilityState,
  HostDevice,
  HostTopology,
  IommuGroup,
  IommuUnit,
  PasidState,
  PriState,
} from '../../common/host-topology';
import { IOMMU_KIND_LABELS } from '../../common/host-topology';

function hex4(n: number | undefined): string {
  return n === undefined ? '????' : n.toString(16).padStart(4, '0');
}

/** on = enabled, off = supported but disabled, - = not supported, ? = unknown. */
export function capCell(c: CapabilityState): string {
  if (c.supported === null) return '?';
  if (!c.supported) return '-';
  return c.enabled === null ? '?' : c.enabled ? 'on' : 'off';
}

export function priCell(p: PriState): string {
  const base = capCell(p);
  const s = p.status;
  if (!s) return base;
  const flags = [
    s.responseFailure ? 'RF' : '',
    s.uprgi ? 'UPRGI' : '',
    s.stopped ? 'S' : '',
    s.prgResponsePasidRequired ? 'PRPR' : '',
  ].filter(Boolean);
  return flags.length ? `${base}!${flags.join(',')}` : base;
}

export function pasidCell(p: PasidState): string {
  const base = capCell(p);
  return p.supported && p.maxWidth !== undefined ? `${base}/${p.maxWidth}` : base;
}

/** sysfs writes the VT-d version register as MAJOR:MINOR ("6:0"); people say 6.0. */
export function unitVersion(raw: string): string {
  return /^\d+:\d+$/.test(raw) ? raw.replace(':', '.') : raw;
}

function unitLines(u: IommuUnit): string[] {
  const r = u.registers;
  const head = [`  ${u.name}  ${IOMMU_KIND_LABELS[u.kind]}`];
  if (r.version) head.push(`version ${unitVersion(r.version)}`);
  if (r.address) head.push(`@0x${r.address.replace(/^0x/, '')}`);
  const s = u.summary;
  if (s.domainsSupported !== undefined)
    head.push(`domains ${s.domainsUsed ?? '?'}/${s.domainsSupported}`);
  head.push(`${u.devices.length} device${u.devices.length === 1 ? '' : 's'}`);
  const lines = [head.join('  ')];
  const named: [string, boolean | undefined][] = [
    ['scalable-mode', s.scalableMode],
    [s.pasidBits ? `PASID(${s.pasidBits} bits)` : 'PASID', s.pasid],
    ['PRS', s.pageRequests],
    ['nested', s.nested],
    ['first-level', s.firstLevel],
    ['second-level', s.secondLevel],
    ['SVA', s.sva],
    ['caching-mode', s.cachingMode],
  ];
  const yes = named.filter(([, v]) => v === true).map(([k]) => k);
  const no = named.filter(([, v]) => v === false).map(([k]) => k);
  if (yes.length || no.length) {
    lines.push(`      has: ${yes.join(' ') || '-'}   lacks: ${no.join(' ') || '-'}`);
  }
  if (r.ecap) lines.push(`      cap 0x${r.cap ?? '?'}  ecap 0x${r.ecap ?? '?'}`);
  if (r.features) lines.push(`      cap 0x${r.cap ?? '?'}  features ${r.features}`);
  for (const p of u.problems) lines.push(`      ! ${p.message}`);
  return lines;
}

const COLUMNS = ['ADDRESS', 'IDS', 'CLASS', 'DRIVER', 'CDEV', 'ATS', 'PRI', 'PASID', 'NAME'];

function deviceRow(d: HostDevice): string[] {
  const name = [d.vendorName, d.deviceName].filter(Boolean).join(' ');
  return [
    d.address,
    d.vendorId === undefined ? '-' : `${hex4(d.vendorId)}:${hex4(d.deviceId)}`,
    d.classCode === undefined ? '-' : (d.classCode >> 8).toString(16).padStart(4, '0'),
    d.driver ?? '-',
    d.vfioCdev ?? '-',
    capCell(d.ats),
    priCell(d.pri),
    pasidCell(d.pasid),
    d.className ? `${name || '?'} (${d.className})` : name,
  ];
}

function table(rows: string[][], indent: string): string[] {
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    (
      indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')
    ).trimEnd(),
  );
}

function deviceNotes(d: HostDevice): string[] {
  const notes: string[] = [];
  const unknown = d.ats.unknown ?? d.pri.unknown ?? d.pasid.unknown;
  if (unknown) notes.push(`${d.address}: ATS/PRI/PASID unknown: ${unknown}`);
  for (const p of d.problems) notes.push(`${d.address}: ${p.message}`);
  return notes;
}

function groupLines(g: IommuGroup, devs: HostDevice[]): string[] {
  const units = [...new Set(devs.map((d) => d.unit).filter((u): u is string => u !== null))];
  const verdict = g.viability.viable ? 'viable for VFIO' : 'NOT viable for VFIO';
  const lines = [
    `IOMMU group ${g.id}  [${g.type ?? '?'}]  ${units.join(',') || 'no unit'}  ${verdict}`,
  ];
  for (const r of g.viability.reasons) lines.push(`    - ${r}`);
  for (const rr of g.reservedRegions) lines.push(`    reserved ${rr.start}-${rr.end} ${rr.kind}`);
  lines.push(...table([COLUMNS, ...devs.map(deviceRow)], '    '));
  for (const d of devs) for (const n of deviceNotes(d)) lines.push(`    ! ${n}`);
  for (const p of g.problems) lines.push(`    ! ${p.message}`);
  return lines;
}

export function formatTopology(t: HostTopology, opts: { showUnits?: boolean } = {}): string {
  const byAddr = new Map(t.devices.map((d) => [d.address, d]));
  const out: string[] = [];
  if (opts.showUnits !== false) {
    out.push('IOMMU units');
    if (t.units.length === 0) out.push('  (none)');
    for (const u of t.units) out.push(...unitLines(u));
    out.push('');
  }
  for (const g of t.groups) {
    const devs = g.devices
      .map((a) => byAddr.get(a))
      .filter((d): d is HostDevice => d !== undefined);
    out.push(...groupLines(g, devs), '');
  }
  if (t.groups.length === 0) {
    out.push(
      'No IOMMU groups: no IOMMU is active (intel_iommu=on / amd_iommu=on), or filtered out.',
      '',
    );
  }
  const ungrouped = t.devices.filter(
    (d) => d.group === null || !t.groups.some((g) => g.id === d.group),
  );
  if (ungrouped.length) {
    out.push('Devices without an IOMMU group');
    out.push(...table([COLUMNS, ...ungrouped.map(deviceRow)], '    '), '');
  }
  out.push(
    'ATS/PRI/PASID: on = enabled, off = supported but disabled, - = not supported, ? = unknown;',
  );
  out.push(
    'PRI status: RF response failure, UPRGI unexpected group index, S stopped, PRPR PASID required;',
  );
  out.push('PASID on/N = N-bit PASIDs.');
  for (const p of t.problems) out.push(`! ${p.message}`);
  return `${out.join('\n')}\n`;
}
