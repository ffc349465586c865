// `watch` in text mode, like tcpdump: one line per page request group read
// and one per answer, each with the local wall-clock time to the microsecond:
//   12:00:01.123456 group 17 dev 1 pasid 3 grp 5 cookie 2 r-- 0x100000 +1p
//   12:00:01.123468 group 17 success by policy rule 0 12.3us
// Every field is a number or a fixed word (nothing from the kernel is printed
// as text), so there is nothing to escape, except in native error messages.
import { FaultFlag, Perm, formatAddr } from '../../common/fault-record';
import { answeredByNames } from '../../common/contract';
import { AnsweredBy } from '../native/addon-types';
import { RECORDS_LEFT_OUT, type DecodedBatch } from '../session/decode-batch';
import { codeName } from './watch-output';
import type { BatchSelection } from './watch-filter';

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** 'r--', 'rw-', 'r-xp' … : rwx always, p when the request is privileged. */
export function permColumns(perm: number): string {
  return (
    (perm & Perm.Read ? 'r' : '-') +
    (perm & Perm.Write ? 'w' : '-') +
    (perm & Perm.Exec ? 'x' : '-') +
    (perm & Perm.Priv ? 'p' : '')
  );
}

/** 12.3us, 1.23ms, 1.23s. */
export function fmtLatency(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  const us = ns / 1e3;
  if (us < 1000) return `${us.toFixed(1)}us`;
  if (us < 1e6) return `${(us / 1e3).toFixed(2)}ms`;
  return `${(us / 1e6).toFixed(2)}s`;
}

/** Control characters out of a message (native error text). */
const printable = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export class TextFormatter {
  /** Wall-clock µs = CLOCK_MONOTONIC ns / 1000 + this. */
  private readonly offsetUs: number;
  private lastSecond = -1;
  private secondText = '';

  constructor(monoNowNs: number = Number(process.hrtime.bigint()), wallNowMs: number = Date.now()) {
    this.offsetUs = wallNowMs * 1e3 - monoNowNs / 1e3;
  }

  /** HH:MM:SS.uuuuuu (local time) of a CLOCK_MONOTONIC ns time. */
  time(monoNs: number): string {
    const us = Math.floor(monoNs / 1e3 + this.offsetUs);
    const second = Math.floor(us / 1e6);
    if (second !== this.lastSecond) {
      const d = new Date(second * 1000);
      this.lastSecond = second;
      this.secondText = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`;
    }
    return this.secondText + String(us - second * 1e6).padStart(6, '0');
  }

  /**
   * One line per group read, per answer, per error; one string per batch.
   * With `keep` (watch --filter) only the groups and answers it marks.
   */
  batch(
    b: DecodedBatch,
    nowNs: number = Number(process.hrtime.bigint()),
    keep?: BatchSelection,
  ): { text: string; lines: number } {
    let s = '';
    let lines = 0;
    const r = b.read;
    const hasRecords = b.count > 0;
    // The record columns are getters (decoded lazily): read them once.
    const c = hasRecords
      ? {
          flags: b.flags,
          perm: b.perm,
          pasid: b.pasid,
          devId: b.devId,
          grpid: b.grpid,
          addrHi: b.addrHi,
          addrLo: b.addrLo,
        }
      : undefined;
    for (let i = 0; i < r.count; i++) {
      if (keep && !keep.read[i]) continue;
      const t = this.time(r.readNs[i]!);
      const first = r.first[i]!;
      const pages = r.pages[i]!;
      if (first === RECORDS_LEFT_OUT || !c) {
        s += `${t} group ${r.group[i]} cookie ${r.cookie[i]} +${pages}p (records left out)\n`;
      } else {
        const flags = c.flags[first]!;
        let perm = 0;
        const end = Math.min(first + pages, b.count);
        for (let k = first; k < end; k++) perm |= c.perm[k]!;
        const pasid = flags & FaultFlag.PasidValid ? String(c.pasid[first]) : '-';
        s +=
          `${t} group ${r.group[i]} dev ${c.devId[first]} pasid ${pasid} grp ${c.grpid[first]} ` +
          `cookie ${r.cookie[i]} ${permColumns(perm)} ${formatAddr(c.addrHi[first]!, c.addrLo[first]!)} +${pages}p\n`;
      }
      lines++;
    }
    const a = b.answered;
    for (let i = 0; i < a.count; i++) {
      if (keep && !keep.answered[i]) continue;
      const group = a.group[i]!;
      // Answer time: read time + latency when the group was read in this batch, else now.
      const k = indexOfSorted(r.group, r.count, group);
      const at = k >= 0 ? r.readNs[k]! + a.latencyNs[i]! : nowNs;
      const by = a.by[i]!;
      const rule = a.rule[i]!;
      const who =
        by === AnsweredBy.Policy
          ? rule >= 0
            ? `by policy rule ${rule}`
            : 'by policy default'
          : `by ${answeredByNames[by] ?? `answerer ${by}`}`;
      s += `${this.time(Number.isFinite(at) ? at : nowNs)} group ${group} ${codeName(a.code[i]!)} ${who} ${fmtLatency(a.latencyNs[i]!)}\n`;
      lines++;
    }
    for (const e of b.errors) {
      const group = e.group === null ? '' : ` group ${e.group}`;
      const cookie = e.cookie === null ? '' : ` cookie ${e.cookie}`;
      s += `${this.time(nowNs)} error${group}${cookie} ${e.code} ${printable(e.op)}: ${printable(e.message)}\n`;
      lines++;
    }
    return { text: s, lines };
  }
}

export const textLostLine = (n: number): string =>
  `${n} line(s) lost: the output was read more slowly than faults arrived\n`;

/** Index of `v` in the ascending `a[0..n)`, or -1. */
function indexOfSorted(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && a[lo] === v ? lo : -1;
}
