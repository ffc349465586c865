// Text lines for Intel debugfs state in `iommuscope activity`: one line per
// unit (fault status, invalidation and page request queues, latency rows)
// and one per device with live PASIDs (type, domain id, mapped pages when
// watched). Kernel-provided names are escaped like every other field.
import type { DebugfsFile, DebugfsUnit, DevicePasids } from '../../common/debugfs/events';
import { escapeTerminal } from './activity-format';

export function debugfsUnitLine(u: DebugfsUnit): string {
  const f = u.fault;
  const fault = f ? `FSTS ${f.raw}${f.set.length ? ` ${f.set.join(',')}` : ' clean'}` : 'FSTS ?';
  const iq = u.invalidationQueue;
  const inval = iq
    ? `IQ ${iq.head}/${iq.tail} of ${iq.size} (${iq.pending} pending)${iq.recent[0] ? `, newest ${iq.recent[0].typeName}` : ''}`
    : 'IQ -';
  const pq = u.pageRequestQueue;
  const prq =
    pq && pq.size
      ? `PRQ ${pq.head}/${pq.tail} of ${pq.size}${pq.overflow ? ' OVERFLOW' : ''}${pq.pendingRequest ? ' pending' : ''}`
      : 'PRQ off';
  const lat = u.latency?.length
    ? `  latency ${u.latency.map((r) => `${escapeTerminal(r.name)} avg ${r.averageUs}us max ${r.maxUs}us`).join(', ')}`
    : '';
  return `  ${escapeTerminal(u.unit).padEnd(8)} ${fault}  ${inval}  ${prq}${lat}`;
}

export function devicePasidsLine(d: DevicePasids): string {
  const pasids = d.pasids.length
    ? d.pasids
        .map((p) => {
          const t = p.translation;
          const pages = t ? ` ${t.mappings}${t.truncated ? '+' : ''} pages mapped` : '';
          return `pasid ${p.pasid} ${p.pgttName} did ${p.did}${pages}`;
        })
        .join('; ')
    : d.contextPresent
      ? 'no live PASID'
      : 'no context entry';
  return `  ${escapeTerminal(d.device).padEnd(13)} grp ${String(d.group ?? '-').padStart(3)} ${escapeTerminal(d.driver ?? '-').padEnd(12)} ${escapeTerminal(d.unit).padEnd(8)} ${pasids}${d.watched ? ' (watched)' : ''}`;
}

export function debugfsFileLine(f: DebugfsFile): string {
  const state = f.ok ? (f.truncated ? 'truncated' : 'ok') : `error ${f.error ?? '?'}`;
  const detail = f.detail ? `: ${escapeTerminal(f.detail)}` : '';
  const problems = f.problemCount
    ? `; ${f.problemCount} unparsed line(s), first: ${escapeTerminal(f.problems[0]?.raw ?? '')}`
    : '';
  return `  ${escapeTerminal(f.file)} ${state}${detail}${problems}`;
}

/** The debugfs block of the top-like screen (empty when nothing was read). */
export function debugfsBlock(
  units: DebugfsUnit[],
  devices: DevicePasids[],
  files: DebugfsFile[],
): string[] {
  const out: string[] = [];
  if (units.length) out.push('', 'debugfs units:', ...units.map(debugfsUnitLine));
  const live = devices.filter((d) => d.pasids.length || d.watched);
  if (live.length)
    out.push(
      '',
      'device         group driver       unit     live PASIDs',
      ...live.map(devicePasidsLine),
    );
  const bad = files.filter((f) => !f.ok || f.truncated || f.problemCount);
  if (bad.length) out.push('', 'debugfs files:', ...bad.map(debugfsFileLine));
  return out;
}
