// The ATS / PRI / PASID badges of a Host view row, decided from the decoded
// config space. Rule: a badge never looks healthier than the hardware. PRI
// with Response Failure, UPRGI or Stopped set is a warning naming them; an
// enable bit we could not read is '?', never 'off'; a device whose config
// space stops after the 64-byte header gets one badge saying so, not three
// question marks and a 'none'.
import type { HostDevice, PriStatus } from './host-topology';

export type BadgeTone = 'on' | 'off' | 'unknown' | 'warn' | 'none';

export interface CapBadgeView {
  text: string;
  tone: BadgeTone;
  /** Hover text: what the badge means, in full. */
  title: string;
}

/** The PRI status bits that mean page requests are failing, as the CLI abbreviates them. */
const PRI_FAILURES: { bit: keyof PriStatus; short: string; long: string }[] = [
  { bit: 'responseFailure', short: 'RF', long: 'Response Failure' },
  { bit: 'uprgi', short: 'UPRGI', long: 'Unexpected Page Request Group Index' },
  { bit: 'stopped', short: 'S', long: 'Stopped' },
];

export const CAPS_UNREADABLE = 'capabilities unreadable (needs CAP_SYS_ADMIN)';

type Cap = HostDevice['ats'] | HostDevice['pri'] | HostDevice['pasid'];

function capBadge(name: string, cap: Cap, extra = ''): CapBadgeView | null {
  const where = cap.offset !== undefined ? ` (cap at 0x${cap.offset.toString(16)})` : '';
  if (cap.supported === null) {
    return {
      text: `${name} ?`,
      tone: 'unknown',
      title: `${name}: unknown — ${cap.unknown ?? 'config space not readable'}`,
    };
  }
  if (!cap.supported) return null;
  const label = `${name}${extra ? ` ${extra}` : ''}`;
  if (cap.enabled === null) {
    return {
      text: `${label} ?`,
      tone: 'unknown',
      title: `${name}: supported${where}, enable state unknown${cap.unknown ? ` — ${cap.unknown}` : ''}`,
    };
  }
  return {
    text: cap.enabled ? label : `${label} off`,
    tone: cap.enabled ? 'on' : 'off',
    title: `${name}: supported, ${cap.enabled ? 'enabled' : 'disabled'}${where}`,
  };
}

/** The badges of `d`'s capability cell, in order. */
export function capabilityBadges(d: HostDevice): CapBadgeView[] {
  const caps = [d.ats, d.pri, d.pasid];
  if (caps.every((c) => c.supported === null)) {
    const headerOnly = d.configAccess === 'header-only';
    return [
      {
        text: headerOnly ? CAPS_UNREADABLE : 'capabilities unknown',
        tone: 'unknown',
        title: headerOnly
          ? 'Only the 64-byte config header is readable without CAP_SYS_ADMIN: ATS, PRI and PASID are unknown. Run `iommuscope groups` with CAP_SYS_ADMIN to see them.'
          : `ATS, PRI and PASID: unknown — ${d.ats.unknown ?? 'config space not readable'}`,
      },
    ];
  }
  const out: CapBadgeView[] = [];
  const ats = capBadge('ATS', d.ats);
  if (ats) out.push(ats);
  const pri = capBadge('PRI', d.pri);
  if (pri) {
    const failing = PRI_FAILURES.filter((f) => d.pri.status?.[f.bit]);
    if (failing.length) {
      out.push({
        text: `PRI ⚠ ${failing.map((f) => f.short).join(',')}`,
        tone: 'warn',
        title: `PRI status: ${failing.map((f) => f.long).join(', ')} set (${pri.title})`,
      });
    } else out.push(pri);
  }
  const pasid = capBadge('PASID', d.pasid, d.pasid.maxWidth ? `${d.pasid.maxWidth}b` : '');
  if (pasid) out.push(pasid);
  if (caps.every((c) => c.supported === false)) {
    out.push({ text: 'none', tone: 'none', title: 'no ATS, PRI or PASID capability' });
  }
  return out;
}
