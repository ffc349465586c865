// Text output of `iommuscope activity`: a top-like screen of rates per unit
// and device and the newest faults, and the NDJSON line shapes. Kernel
// strings (device names, log lines) are escaped before they reach a
// terminal: a crafted device name must not move the cursor.
import type { ActivityEvent, SourceState, TimedFault } from '../../common/activity/stream';
import type { RatesEvent } from '../activity/rates';

/** Control characters and DEL as \xNN, backslash doubled. */
export function escapeTerminal(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\x00-\x1f\x7f-\x9f\\]/g, (c) =>
    c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** The NDJSON object for a fault: the documented keys first, then the rest. */
export function faultJson(f: TimedFault): Record<string, unknown> {
  const { type, unit, device, pasid, addr, access, reason, reasonText, walk, time, ...rest } = f;
  return { type, unit, device, pasid, addr, access, reason, reasonText, walk, time, ...rest };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const clock = (t: number) => new Date(t).toISOString().slice(11, 23);

export function sourceLine(s: SourceState): string {
  const state = s.ok ? 'ok' : 'MISSING';
  const need = s.needCap ? ` (needs ${s.needCap})` : '';
  const fix = s.fix ? `\n    grant: ${s.fix}` : '';
  return `  ${s.source.padEnd(12)} ${state.padEnd(8)} ${escapeTerminal(s.detail)}${need}${fix}`;
}

export function faultLine(f: TimedFault): string {
  const pasid = f.pasid === null ? '-' : `0x${f.pasid.toString(16)}`;
  const reason = f.reason === null ? '' : `0x${f.reason.toString(16).padStart(2, '0')} `;
  return (
    `  ${clock(f.time)} ${escapeTerminal(f.unit ?? '?').padEnd(8)} ${escapeTerminal(f.device ?? '?').padEnd(13)} ` +
    `grp ${pad(f.group ?? '-', 3)} ${f.access.padEnd(5)} ${f.addr.padStart(12)} pasid ${pasid.padEnd(6)} ` +
    `${reason}${escapeTerminal(f.reasonText)}`
  );
}

export interface TopState {
  sources: SourceState[];
  rates: RatesEvent | null;
  faults: TimedFault[];
  suppressed: number;
  unparsed: number;
  topology: string[];
  /** Lines appended at the end (the debugfs block: activity-debugfs-format.ts). */
  extra?: string[];
}

export function formatTop(s: TopState): string {
  const out: string[] = ['iommuscope activity  (Ctrl-C to quit)', '', 'sources:'];
  out.push(...s.sources.map(sourceLine));
  const r = s.rates;
  if (r) {
    out.push(
      '',
      `map ${r.map.perSecond}/s (${r.map.bytesPerSecond} B/s)   unmap ${r.unmap.perSecond}/s (${r.unmap.bytesPerSecond} B/s)` +
        `   lost: trace ${r.lost.trace}, kmsg ${r.lost.kmsg}`,
      '',
      'unit      inval/s  iotlb/s  prq/s  faults/s  interrupts/s',
    );
    for (const u of r.units) {
      const irq = Object.entries(u.interrupts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      out.push(
        `  ${escapeTerminal(u.unit).padEnd(8)}${pad(u.invalidations, 7)}${pad(u.iotlbFlushes, 9)}${pad(u.pageRequests, 7)}${pad(u.faults, 10)}  ${irq || '-'}`,
      );
    }
    if (r.devices.length) {
      out.push(
        '',
        'device         group driver        faults/s  prq/s  iotlb/s  faults  last fault',
      );
      for (const d of r.devices) {
        out.push(
          `  ${escapeTerminal(d.device).padEnd(13)}${pad(d.group ?? '-', 5)} ${escapeTerminal(d.driver ?? '-').padEnd(12)}${pad(d.faults, 9)}${pad(d.pageRequests, 7)}${pad(d.iotlbFlushes, 9)}${pad(d.faultsTotal, 8)}  ${d.lastFaultTime ? clock(d.lastFaultTime) : '-'}`,
        );
      }
    }
  }
  out.push(
    '',
    `newest faults (suppressed by the kernel: ${s.suppressed}, unparsed lines: ${s.unparsed}):`,
  );
  out.push(...(s.faults.length ? s.faults.slice(-10).map(faultLine) : ['  none']));
  if (s.topology.length)
    out.push('', 'topology changes:', ...s.topology.slice(-5).map((t) => `  ${escapeTerminal(t)}`));
  out.push(...(s.extra ?? []));
  return `${out.join('\n')}\n`;
}

/** True when an event passes --device/--unit. */
export function matchesFilter(e: ActivityEvent, f: { device?: string; unit?: string }): boolean {
  if (f.device === undefined && f.unit === undefined) return true;
  if (e.type === 'dma-fault')
    return (
      (f.device === undefined || e.device === f.device) &&
      (f.unit === undefined || e.unit === f.unit)
    );
  if (e.type === 'topology' || e.type === 'trace-fault')
    return f.device === undefined || e.device === f.device;
  if (e.type === 'debugfs-unit') return f.unit === undefined || e.unit === f.unit;
  if (e.type === 'device-pasids')
    return (
      (f.device === undefined || e.device === f.device) &&
      (f.unit === undefined || e.unit === f.unit)
    );
  if (e.type === 'debugfs-file') return true;
  return (
    e.type === 'source' || e.type === 'kmsg-gap' || e.type === 'unparsed' || e.type === 'suppressed'
  );
}

/** Rates narrowed to --device/--unit. */
export function filterRates(r: RatesEvent, f: { device?: string; unit?: string }): RatesEvent {
  return {
    ...r,
    units: f.unit === undefined ? r.units : r.units.filter((u) => u.unit === f.unit),
    devices: f.device === undefined ? r.devices : r.devices.filter((d) => d.device === f.device),
  };
}
