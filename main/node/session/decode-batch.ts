// FaultBatch (the addon's flush: groups read, raw 40-byte records, answers)
// → DecodedBatch (one typed array per field). One pass over a Uint32Array
// view; no per-fault objects.
import type { FaultBatch, QueueTotals } from '../native/addon-types';
import { FAULT_RECORD_BYTES, HOST_LITTLE_ENDIAN } from '../../common/fault-record';

/** `read.first` of a group whose records were left out of the batch (overflow). */
export const RECORDS_LEFT_OUT = 0xffffffff;

/**
 * One native flush, columnar.
 *
 * `read` lists every group read since the previous flush, once, in read
 * order, by its group sequence number (our identity; cookies are data).
 * `answered` lists every answer given since the previous flush, once (for
 * groups of this or an earlier batch). Row r of every per-record array
 * (cookie … length) describes the r-th delivered record; group i owns
 * records read.first[i] … read.first[i] + read.pages[i] - 1, or none when
 * read.first[i] is RECORDS_LEFT_OUT. Consumers may keep these arrays (they
 * are fresh per batch).
 */
export interface DecodedBatch {
  /** 1, 2, 3 … per session. */
  seq: number;
  /** The native queue's id. */
  queue: number;
  read: {
    count: number;
    group: Float64Array;
    cookie: Uint32Array;
    first: Uint32Array;
    pages: Uint32Array;
    /** CLOCK_MONOTONIC ns when read() returned the group. */
    readNs: Float64Array;
  };
  /** Records delivered in this batch (length of every per-record array). */
  count: number;
  cookie: Uint32Array;
  devId: Uint32Array;
  /** Meaningful only when flags has PASID_VALID (bit 0). */
  pasid: Uint32Array;
  grpid: Uint32Array;
  /** IOMMU_PGFAULT_PERM_* bits: 1 read, 2 write, 4 exec, 8 priv. */
  perm: Uint32Array;
  /** IOMMU_PGFAULT_FLAGS_*: 1 PASID_VALID, 2 LAST_PAGE. */
  flags: Uint32Array;
  /** The 64-bit address, split: addr = addrHi * 2^32 + addrLo. */
  addrHi: Uint32Array;
  addrLo: Uint32Array;
  length: Uint32Array;
  /**
   * The `count` 40-byte records exactly as read (reserved word and unknown
   * flag bits included), for views that show the raw bytes.
   */
  records: ArrayBuffer;
  answered: {
    count: number;
    group: Float64Array;
    cookie: Uint32Array;
    /** 0 success, 1 invalid. */
    code: Uint8Array;
    /** AnsweredBy: 0 user, 1 policy, 2 drain, 3 kernel. */
    by: Uint8Array;
    /** Index of the policy rule that answered, -1 for the fallback or not a policy. */
    rule: Int16Array;
    /** From the read that returned the group to its answer, ns. */
    latencyNs: Float64Array;
  };
  /** Failed writes/maps/reads since the previous flush; a refused answer leaves its group pending. */
  errors: FaultBatch['errors'];
  /** Records of automatically answered groups left out of this batch. */
  overflow: number;
  /** Groups in `read` whose records were left out (first = RECORDS_LEFT_OUT). */
  groupsLeftOut: number;
  /** Queue totals at this flush, exact. */
  totals: QueueTotals;
}

/** The per-record columns of a batch, one Uint32Array each. */
export interface RecordColumns {
  cookie: Uint32Array;
  devId: Uint32Array;
  pasid: Uint32Array;
  grpid: Uint32Array;
  perm: Uint32Array;
  flags: Uint32Array;
  addrHi: Uint32Array;
  addrLo: Uint32Array;
  length: Uint32Array;
}

const columnNames = [
  'cookie',
  'devId',
  'pasid',
  'grpid',
  'perm',
  'flags',
  'addrHi',
  'addrLo',
  'length',
] as const satisfies readonly (keyof RecordColumns)[];

function decodeColumns(records: ArrayBuffer, n: number): RecordColumns {
  const c: RecordColumns = {
    cookie: new Uint32Array(n),
    devId: new Uint32Array(n),
    pasid: new Uint32Array(n),
    grpid: new Uint32Array(n),
    perm: new Uint32Array(n),
    flags: new Uint32Array(n),
    addrHi: new Uint32Array(n),
    addrLo: new Uint32Array(n),
    length: new Uint32Array(n),
  };
  if (HOST_LITTLE_ENDIAN) {
    const w = new Uint32Array(records, 0, n * 10);
    for (let i = 0, o = 0; i < n; i++, o += 10) {
      c.flags[i] = w[o]!;
      c.devId[i] = w[o + 1]!;
      c.pasid[i] = w[o + 2]!;
      c.grpid[i] = w[o + 3]!;
      c.perm[i] = w[o + 4]!;
      c.addrLo[i] = w[o + 6]!;
      c.addrHi[i] = w[o + 7]!;
      c.length[i] = w[o + 8]!;
      c.cookie[i] = w[o + 9]!;
    }
  } else {
    const v = new DataView(records);
    for (let i = 0, o = 0; i < n; i++, o += FAULT_RECORD_BYTES) {
      c.flags[i] = v.getUint32(o, true);
      c.devId[i] = v.getUint32(o + 4, true);
      c.pasid[i] = v.getUint32(o + 8, true);
      c.grpid[i] = v.getUint32(o + 12, true);
      c.perm[i] = v.getUint32(o + 16, true);
      c.addrLo[i] = v.getUint32(o + 24, true);
      c.addrHi[i] = v.getUint32(o + 28, true);
      c.length[i] = v.getUint32(o + 32, true);
      c.cookie[i] = v.getUint32(o + 36, true);
    }
  }
  return c;
}

/**
 * The per-record columns are decoded on first use, all in one pass: a
 * consumer that only counts answers (the CLI summary, a policy-only run)
 * never pays for them, which matters at hundreds of thousands of faults/s.
 */
class LazyDecodedBatch implements DecodedBatch {
  readonly queue: number;
  readonly read: DecodedBatch['read'];
  readonly count: number;
  readonly records: ArrayBuffer;
  readonly answered: DecodedBatch['answered'];
  readonly errors: DecodedBatch['errors'];
  readonly overflow: number;
  readonly groupsLeftOut: number;
  readonly totals: QueueTotals;
  private decoded: RecordColumns | undefined;
  // Own, enumerable getters (not class accessors) so `{ ...batch }` still
  // carries the columns.
  declare readonly cookie: Uint32Array;
  declare readonly devId: Uint32Array;
  declare readonly pasid: Uint32Array;
  declare readonly grpid: Uint32Array;
  declare readonly perm: Uint32Array;
  declare readonly flags: Uint32Array;
  declare readonly addrHi: Uint32Array;
  declare readonly addrLo: Uint32Array;
  declare readonly length: Uint32Array;

  constructor(
    raw: FaultBatch,
    readonly seq: number,
  ) {
    this.queue = raw.queue;
    const r = raw.read;
    this.read = {
      count: r.group.length,
      group: r.group,
      cookie: r.cookie,
      first: r.first,
      pages: r.pages,
      readNs: r.readNs,
    };
    let leftOut = 0;
    for (let i = 0; i < r.first.length; i++) if (r.first[i] === RECORDS_LEFT_OUT) leftOut++;
    this.groupsLeftOut = leftOut;
    this.count = Math.floor(raw.records.byteLength / FAULT_RECORD_BYTES);
    this.records = raw.records;
    const a = raw.answered;
    this.answered = {
      count: a.group.length,
      group: a.group,
      cookie: a.cookie,
      code: a.codes,
      by: a.by,
      rule: a.rule,
      latencyNs: a.latencyNs,
    };
    this.errors = raw.errors;
    this.overflow = raw.overflow;
    this.totals = raw.totals;
    for (const name of columnNames) {
      Object.defineProperty(this, name, { enumerable: true, get: () => this.columns()[name] });
    }
  }

  private columns(): RecordColumns {
    return (this.decoded ??= decodeColumns(this.records, this.count));
  }
}

export function decodeBatch(raw: FaultBatch, seq: number): DecodedBatch {
  return new LazyDecodedBatch(raw, seq);
}
