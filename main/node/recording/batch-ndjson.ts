// NDJSON lines for one FaultBatch, with the field names of `watch --json`
// plus the group's sequence number: one `fault` line per page request (from
// the raw record), one `response` line per answer, `error` and `overflow`
// lines. Used by `replay --json` and `export --format ndjson`.
import {
  decodeFaultRecord,
  FAULT_RECORD_BYTES,
  FaultFlag,
  flagNames,
  permString,
} from '../../common/fault-record';
import { answeredByNames } from '../../common/contract';
import type { FaultBatch } from '../native/addon-types';
import { RECORDS_LEFT_OUT } from './batch-frames';
import type { DecodedFrame } from './frames';

export const codeName = (c: number): string =>
  c === 0 ? 'success' : c === 1 ? 'invalid' : `code${c}`;
export const byName = (b: number): string => answeredByNames[b] ?? `by${b}`;

export function faultBatchToNdjson(b: FaultBatch): string {
  const lines: string[] = [];
  const view = new DataView(b.records);
  const r = b.read;
  for (let i = 0; i < r.group.length; i++) {
    const group = r.group[i]!;
    const first = r.first[i]!;
    if (first === RECORDS_LEFT_OUT) {
      lines.push(
        JSON.stringify({
          type: 'fault',
          group,
          cookie: r.cookie[i],
          pages: r.pages[i],
          recordsLeftOut: true,
          readNs: r.readNs[i],
        }),
      );
      continue;
    }
    for (let p = 0; p < r.pages[i]!; p++) {
      const rec = decodeFaultRecord(view, (first + p) * FAULT_RECORD_BYTES);
      lines.push(
        JSON.stringify({
          type: 'fault',
          group,
          cookie: rec.cookie,
          dev: rec.devId,
          pasid: rec.flags & FaultFlag.PasidValid ? rec.pasid : null,
          grpid: rec.grpid,
          perm: permString(rec.perm),
          addr: rec.addr,
          length: rec.length,
          flags: flagNames(rec.flags),
          readNs: r.readNs[i],
        }),
      );
    }
  }
  const a = b.answered;
  for (let i = 0; i < a.group.length; i++) {
    lines.push(
      JSON.stringify({
        type: 'response',
        group: a.group[i],
        cookie: a.cookie[i],
        code: codeName(a.codes[i]!),
        by: byName(a.by[i]!),
        rule: a.rule[i],
        latencyNs: a.latencyNs[i],
      }),
    );
  }
  for (const e of b.errors) lines.push(JSON.stringify({ type: 'error', ...e }));
  if (b.overflow) lines.push(JSON.stringify({ type: 'overflow', records: b.overflow }));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Frames other than batches, as NDJSON (policy changes, notes, topology changes ...). */
export function otherFrameLine(f: DecodedFrame): string | null {
  switch (f.kind) {
    case 'session':
    case 'policy':
    case 'note':
    case 'host-activity':
    case 'topology-change':
    case 'vevent':
      return JSON.stringify(
        f.kind === 'vevent'
          ? { ...f, type: f.kind, data: Buffer.from(f.data).toString('hex') }
          : { ...f, type: f.kind },
      );
    default:
      return null;
  }
}
