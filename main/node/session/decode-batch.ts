// FaultBatch (raw 40-byte records from the addon) → DecodedBatch (one typed
// array per field). One pass over a Uint32Array view; no per-fault objects.
import type { FaultBatch, QueueTotals } from '../native/addon-types';
import { FAULT_RECORD_BYTES } from '../../common/fault-record';

/**
 * One native flush, columnar. Row i of every per-fault array describes the
 * i-th page request read (in read order); answered.* rows describe groups
 * answered since the previous flush (by user, policy, drain or kernel), which
 * may have been read in earlier batches. Consumers keep these arrays (they
 * are fresh per batch) — e.g. the dashboard appends them to its fault log.
 */
export interface DecodedBatch {
  /** 1, 2, 3 … per session. */
  seq: number;
  /** Number of page requests in this batch (length of every per-fault array). */
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
  /** CLOCK_MONOTONIC ns when read() returned the record. */
  readNs: Float64Array;
  /**
   * The `count` 40-byte records exactly as read (reserved word and unknown
   * flag bits included), for views that show the raw bytes.
   */
  records: ArrayBuffer;
  answered: {
    count: number;
    cookie: Uint32Array;
    /** 0 success, 1 invalid. */
    code: Uint8Array;
    /** AnsweredBy: 0 user, 1 policy, 2 drain, 3 kernel. */
    by: Uint8Array;
    /** Index of the policy rule that answered, -1 for the default or not a policy. */
    rule: Int16Array;
    /** From read of the group's last page to the response write(), ns. */
    latencyNs: Float64Array;
  };
  /** Failed writes/maps since the previous flush; a failed group stays pending. */
  errors: FaultBatch['errors'];
  /** Records read but dropped before JS because the JS-side buffer was full (this flush). */
  overflow: number;
  /**
   * Answers left out of `answered` this flush (too many piled up): those
   * groups are answered, but which ones and how is not delivered.
   */
  answeredOverflow: number;
  /** Queue totals at this flush. */
  totals: QueueTotals;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Columns {
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
] as const satisfies readonly (keyof Columns)[];

function decodeColumns(records: ArrayBuffer, n: number): Columns {
  const c: Columns = {
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
  if (littleEndian) {
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
 * The per-fault columns are decoded on first use, all in one pass: a
 * consumer that only counts answers (the CLI summary, a policy-only run)
 * never pays for them, which matters at hundreds of thousands of faults/s.
 */
class LazyDecodedBatch implements DecodedBatch {
  readonly count: number;
  readonly readNs: Float64Array;
  readonly records: ArrayBuffer;
  readonly answered: DecodedBatch['answered'];
  readonly errors: DecodedBatch['errors'];
  readonly overflow: number;
  readonly answeredOverflow: number;
  readonly totals: QueueTotals;
  private decoded: Columns | undefined;
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
    const n = Math.floor(raw.records.byteLength / FAULT_RECORD_BYTES);
    this.count = n;
    this.records = raw.records;
    this.readNs = raw.readNs.length === n ? raw.readNs : raw.readNs.slice(0, n);
    const a = raw.answered;
    this.answered = {
      count: a.cookies.length,
      cookie: a.cookies,
      code: a.codes,
      by: a.by,
      rule: a.rule,
      latencyNs: a.latencyNs,
    };
    this.errors = raw.errors;
    this.overflow = raw.overflow;
    this.answeredOverflow = raw.answeredOverflow ?? 0;
    this.totals = raw.totals;
    for (const name of columnNames) {
      Object.defineProperty(this, name, { enumerable: true, get: () => this.columns()[name] });
    }
  }

  private columns(): Columns {
    return (this.decoded ??= decodeColumns(this.records, this.count));
  }
}

export function decodeBatch(raw: FaultBatch, seq: number): DecodedBatch {
  return new LazyDecodedBatch(raw, seq);
}
