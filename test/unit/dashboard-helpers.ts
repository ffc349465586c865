// Synthetic session batches for the dashboard tests (no addon needed),
// shaped as the queue contract says: every group read is listed once in
// `read` with its records, and answered once in `answered` (in that batch or
// a later one), by group sequence number. Tests built on these must keep
// that promise: answer each group they read exactly once.
import type { LogBatch } from '../../main/node/dashboard/fault-log';
import { RECORDS_LEFT_OUT } from '../../main/node/session/decode-batch';

export interface Page {
  devId?: number;
  pasid?: number | null;
  grpid?: number;
  perm?: number;
  addr?: number;
}

export interface Group extends Page {
  /** The group's sequence number. */
  group: number;
  cookie?: number;
  /** Pages after the first (which takes the group's own fields). */
  more?: Page[];
  readNs?: number;
  /** The native side left this group's records out (overflow). */
  leftOut?: boolean;
}

export interface Answer {
  group: number;
  cookie?: number;
  code: 0 | 1;
  by: number;
  rule?: number;
  latencyNs?: number;
}

/** Zeroed per-record columns for `n` records. */
function recordColumns(n: number) {
  const col = () => new Uint32Array(n);
  return {
    count: n,
    cookie: col(),
    devId: col(),
    pasid: col(),
    grpid: col(),
    perm: col(),
    flags: col(),
    addrHi: col(),
    addrLo: col(),
    length: col(),
  };
}

function answerColumns(answers: Answer[]): LogBatch['answered'] & { cookie: Uint32Array } {
  return {
    count: answers.length,
    group: Float64Array.from(answers, (a) => a.group),
    cookie: Uint32Array.from(answers, (a) => a.cookie ?? a.group),
    code: Uint8Array.from(answers, (a) => a.code),
    by: Uint8Array.from(answers, (a) => a.by),
    rule: Int16Array.from(answers, (a) => a.rule ?? -1),
    latencyNs: Float64Array.from(answers, (a) => a.latencyNs ?? 1000),
  };
}

export function makeBatch(groups: Group[], answers: Answer[] = []): LogBatch {
  const kept = groups.filter((g) => !g.leftOut);
  const n = kept.reduce((sum, g) => sum + 1 + (g.more?.length ?? 0), 0);
  const b: LogBatch = {
    ...recordColumns(n),
    read: {
      count: groups.length,
      group: Float64Array.from(groups, (g) => g.group),
      cookie: Uint32Array.from(groups, (g) => g.cookie ?? g.group),
      first: new Uint32Array(groups.length),
      pages: Uint32Array.from(groups, (g) => 1 + (g.more?.length ?? 0)),
      readNs: Float64Array.from(groups, (g, i) => g.readNs ?? 1e6 * i),
    },
    answered: answerColumns(answers),
  };
  let r = 0;
  groups.forEach((g, i) => {
    if (g.leftOut) {
      b.read.first[i] = RECORDS_LEFT_OUT;
      return;
    }
    b.read.first[i] = r;
    const pages = [g, ...(g.more ?? [])];
    pages.forEach((p, k) => {
      const pasid = p.pasid === undefined ? (g.pasid ?? null) : p.pasid;
      b.cookie[r] = g.cookie ?? g.group;
      b.devId[r] = p.devId ?? g.devId ?? 1;
      b.pasid[r] = pasid ?? 0;
      b.grpid[r] = p.grpid ?? g.grpid ?? 0;
      b.perm[r] = p.perm ?? g.perm ?? 1;
      b.flags[r] = (pasid !== null ? 1 : 0) | (k === pages.length - 1 ? 2 : 0);
      const addr = p.addr ?? (g.addr ?? 0x1000) + k * 4096;
      b.addrHi[r] = Math.floor(addr / 2 ** 32);
      b.addrLo[r] = addr >>> 0;
      b.length[r] = 4096;
      r++;
    });
  });
  return b;
}

/**
 * A big batch built column by column (fast): `n` one-page groups numbered
 * from `firstGroup` (cookies the same unless `firstCookie`), dev
 * 1..devices, PASIDs 1..pasids, perm alternating r / rw, addresses one page
 * apart from 0x1000; `startIndex` continues those patterns.
 */
export function floodBatch(
  n: number,
  firstGroup: number,
  opts: { devices?: number; pasids?: number; startIndex?: number; firstCookie?: number } = {},
): LogBatch {
  const devices = opts.devices ?? 4;
  const pasids = opts.pasids ?? 8;
  const start = opts.startIndex ?? 0;
  const firstCookie = opts.firstCookie ?? firstGroup;
  const b: LogBatch = {
    ...recordColumns(n),
    read: {
      count: n,
      group: new Float64Array(n),
      cookie: new Uint32Array(n),
      first: new Uint32Array(n),
      pages: new Uint32Array(n).fill(1),
      readNs: new Float64Array(n),
    },
    answered: answerColumns([]),
  };
  for (let i = 0; i < n; i++) {
    const k = start + i;
    b.read.group[i] = firstGroup + i;
    b.read.cookie[i] = (firstCookie + i) >>> 0;
    b.read.first[i] = i;
    b.read.readNs[i] = k * 1000;
    b.cookie[i] = (firstCookie + i) >>> 0;
    b.devId[i] = 1 + (k % devices);
    b.pasid[i] = 1 + (k % pasids);
    b.grpid[i] = k & 0x1ff;
    b.perm[i] = k % 2 === 0 ? 1 : 3;
    b.flags[i] = 3;
    const addr = 0x1000 + k * 4096;
    b.addrHi[i] = Math.floor(addr / 2 ** 32);
    b.addrLo[i] = addr >>> 0;
    b.length[i] = 4096;
  }
  return b;
}

/** A batch carrying only answers. */
export function answersBatch(answers: Answer[]): LogBatch {
  return makeBatch([], answers);
}
