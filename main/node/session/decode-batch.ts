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

export function decodeBatch(raw: FaultBatch, seq: number): DecodedBatch {
  const n = Math.floor(raw.records.byteLength / FAULT_RECORD_BYTES);
  const cookie = new Uint32Array(n);
  const devId = new Uint32Array(n);
  const pasid = new Uint32Array(n);
  const grpid = new Uint32Array(n);
  const perm = new Uint32Array(n);
  const flags = new Uint32Array(n);
  const addrHi = new Uint32Array(n);
  const addrLo = new Uint32Array(n);
  const length = new Uint32Array(n);
  if (littleEndian) {
    const w = new Uint32Array(raw.records, 0, n * 10);
    for (let i = 0, o = 0; i < n; i++, o += 10) {
      flags[i] = w[o]!;
      devId[i] = w[o + 1]!;
      pasid[i] = w[o + 2]!;
      grpid[i] = w[o + 3]!;
      perm[i] = w[o + 4]!;
      addrLo[i] = w[o + 6]!;
      addrHi[i] = w[o + 7]!;
      length[i] = w[o + 8]!;
      cookie[i] = w[o + 9]!;
    }
  } else {
    const v = new DataView(raw.records);
    for (let i = 0, o = 0; i < n; i++, o += FAULT_RECORD_BYTES) {
      flags[i] = v.getUint32(o, true);
      devId[i] = v.getUint32(o + 4, true);
      pasid[i] = v.getUint32(o + 8, true);
      grpid[i] = v.getUint32(o + 12, true);
      perm[i] = v.getUint32(o + 16, true);
      addrLo[i] = v.getUint32(o + 24, true);
      addrHi[i] = v.getUint32(o + 28, true);
      length[i] = v.getUint32(o + 32, true);
      cookie[i] = v.getUint32(o + 36, true);
    }
  }
  const a = raw.answered;
  return {
    seq,
    count: n,
    cookie,
    devId,
    pasid,
    grpid,
    perm,
    flags,
    addrHi,
    addrLo,
    length,
    readNs: raw.readNs.length === n ? raw.readNs : raw.readNs.slice(0, n),
    records: raw.records,
    answered: {
      count: a.cookies.length,
      cookie: a.cookies,
      code: a.codes,
      by: a.by,
      rule: a.rule,
      latencyNs: a.latencyNs,
    },
    errors: raw.errors,
    overflow: raw.overflow,
    answeredOverflow: raw.answeredOverflow ?? 0,
    totals: raw.totals,
  };
}
