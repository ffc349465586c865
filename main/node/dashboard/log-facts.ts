// The fault log's columns as the filter language's GroupFacts: a slot is a
// row's position in the columns (absolute index % capacity). Built per
// query (the arrays are captured, so it must not outlive a growth of the
// log); evaluating a row allocates nothing.
import type { GroupFacts } from '../../common/filter/evaluate';
import type { ScalarField } from '../../common/filter/fields';
import { FAULT_RECORD_BYTES } from '../../common/fault-record';

export interface LogColumns {
  capacity: number;
  cols: {
    cookie: Uint32Array;
    devId: Uint32Array;
    /** 0xffffffff: no PASID. */
    pasid: Uint32Array;
    grpid: Uint32Array;
    /** Union of the pages' permissions. */
    perm: Uint32Array;
    /** First page's address. */
    addrHi: Uint32Array;
    addrLo: Uint32Array;
    pages: Uint32Array;
    /** RowState: pending 0, success 1, invalid 2, answered 3 (FIELDS.state order). */
    state: Uint8Array;
    /** AnsweredBy, 255 while not answered. */
    by: Uint8Array;
    latencyUs: Float64Array;
    rawStart: Float64Array;
  };
}

export interface RawColumns {
  capacity: number;
  cols: { bytes: Uint8Array; owner: Float64Array };
  /** Kept raw positions are [base, next). */
  base: number;
  next: number;
}

/** Kept rows are [base, next): a slot names exactly one of them. */
export interface RowSpan {
  base: number;
  next: number;
}

const NO_PASID = 0xffffffff;
const NOT_ANSWERED = 255;
const ADDR = 24;

export function logFacts(g: LogColumns, rows: RowSpan, raw: RawColumns): GroupFacts {
  const c = g.cols;
  const cap = g.capacity;
  const view = new DataView(raw.cols.bytes.buffer, raw.cols.bytes.byteOffset);
  const owner = raw.cols.owner;
  const u32 = (arr: Uint32Array) => (s: number) => arr[s]!;
  const readers: Record<ScalarField, (i: number) => number> = {
    dev: u32(c.devId),
    pasid: (s) => {
      const p = c.pasid[s]!;
      return p === NO_PASID ? NaN : p;
    },
    grpid: u32(c.grpid),
    cookie: u32(c.cookie),
    pages: u32(c.pages),
    perm: u32(c.perm),
    // The log does not hold the native GroupSeq yet: comparisons on it are false.
    group: () => NaN,
    state: (s) => c.state[s]!,
    by: (s) => {
      const b = c.by[s]!;
      return b === NOT_ANSWERED ? NaN : b;
    },
    code: (s) => {
      const st = c.state[s]!;
      return st === 1 ? 0 : st === 2 ? 1 : NaN;
    },
    latency: (s) => c.latencyUs[s]! * 1e3,
  };
  return {
    scalar: (field) => readers[field],
    someAddr(s, test) {
      if (test(c.addrHi[s]!, c.addrLo[s]!)) return true;
      const pages = c.pages[s]!;
      if (pages <= 1) return false;
      // The later pages are in the raw ring (while it still holds them),
      // read together with the first, so this walk is short.
      const i = rows.base + ((s - (rows.base % cap) + cap) % cap);
      let seen = 0;
      for (let p = Math.max(c.rawStart[s]!, raw.base); p < raw.next && seen < pages; p++) {
        const r = p % raw.capacity;
        if (owner[r] !== i) continue;
        seen++;
        const at = r * FAULT_RECORD_BYTES + ADDR;
        if (test(view.getUint32(at + 4, true), view.getUint32(at, true))) return true;
      }
      return false;
    },
  };
}
