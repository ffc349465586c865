// Synthetic session batches for the dashboard tests (no addon needed).
import type { LogBatch } from '../../main/node/dashboard/fault-log';

export interface Page {
  cookie: number;
  devId?: number;
  pasid?: number | null;
  grpid?: number;
  perm?: number;
  addr?: number;
  last?: boolean;
  readNs?: number;
}

export interface Answer {
  cookie: number;
  code: 0 | 1;
  by: number;
  latencyNs?: number;
}

/** Zeroed per-page columns for `n` pages. */
function pageColumns(n: number): Omit<LogBatch, 'answered' | 'records'> {
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
    readNs: new Float64Array(n),
  };
}

export function makeBatch(pages: Page[], answers: Answer[] = []): LogBatch {
  const b = {
    ...pageColumns(pages.length),
    answered: {
      count: answers.length,
      cookie: Uint32Array.from(answers.map((a) => a.cookie)),
      code: Uint8Array.from(answers.map((a) => a.code)),
      by: Uint8Array.from(answers.map((a) => a.by)),
      latencyNs: Float64Array.from(answers.map((a) => a.latencyNs ?? 1000)),
    },
  };
  pages.forEach((p, i) => {
    const pasid = p.pasid ?? null;
    b.cookie[i] = p.cookie;
    b.devId[i] = p.devId ?? 1;
    b.pasid[i] = pasid ?? 0;
    b.grpid[i] = p.grpid ?? 0;
    b.perm[i] = p.perm ?? 1;
    b.flags[i] = (pasid !== null ? 1 : 0) | (p.last === false ? 0 : 2);
    const addr = p.addr ?? 0x1000;
    b.addrHi[i] = Math.floor(addr / 2 ** 32);
    b.addrLo[i] = addr >>> 0;
    b.length[i] = 4096;
    b.readNs[i] = p.readNs ?? 1e6 * i;
  });
  return b;
}

/**
 * A big batch built column by column (fast): `n` one-page groups, cookies
 * from `firstCookie`, dev 1..devices, PASIDs 1..pasids, perm alternating r / rw,
 * addresses one page apart from 0x1000.
 */
export function floodBatch(
  n: number,
  firstCookie: number,
  opts: { devices?: number; pasids?: number; startIndex?: number } = {},
): LogBatch {
  const devices = opts.devices ?? 4;
  const pasids = opts.pasids ?? 8;
  const start = opts.startIndex ?? 0;
  const b: LogBatch = { ...makeBatch([]), ...pageColumns(n) };
  for (let i = 0; i < n; i++) {
    const k = start + i;
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
    b.readNs[i] = k * 1000;
  }
  return b;
}
