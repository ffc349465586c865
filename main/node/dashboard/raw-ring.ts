// The raw 40-byte records behind faults.detail, in a bounded ring: records
// are addressed by an absolute position (slot = pos % capacity); the ring
// grows by doubling up to `max`, then the oldest records are overwritten.
// Each slot remembers which group (sequence number) owns it, so a row whose
// records were overwritten finds none instead of another group's.
import {
  FAULT_RECORD_BYTES,
  HOST_LITTLE_ENDIAN,
  encodeFaultRecord,
} from '../../common/fault-record';
import type { RecordColumns as BatchColumns } from '../session/decode-batch';

const INITIAL_RECORDS = 1024;

/** The per-record columns a batch carries (and its raw bytes, when it has them). */
export type RecordColumns = BatchColumns & { records?: ArrayBuffer };

export class RawRing {
  private capacity: number;
  private bytes: Uint8Array;
  private words: Uint32Array;
  private owner: Float64Array;
  /** Absolute position of the next record. */
  next = 0;
  private readonly max: number;
  private lastRecords: ArrayBuffer | undefined;
  private lastBytes: Uint8Array | undefined;

  constructor(max: number) {
    this.max = Math.max(INITIAL_RECORDS, max);
    this.capacity = INITIAL_RECORDS;
    this.bytes = new Uint8Array(this.capacity * FAULT_RECORD_BYTES);
    this.words = new Uint32Array(this.bytes.buffer);
    this.owner = new Float64Array(this.capacity);
  }

  /** Oldest absolute position still kept. */
  get base(): number {
    return Math.max(0, this.next - this.capacity);
  }

  /** Store record `r` of batch `b` for group `seq`. */
  add(b: RecordColumns, r: number, seq: number): void {
    if (this.next >= this.capacity && this.capacity < this.max) this.grow();
    const s = this.next % this.capacity;
    this.next++;
    const at = s * FAULT_RECORD_BYTES;
    if (b.records) {
      if (b.records !== this.lastRecords) {
        this.lastRecords = b.records;
        this.lastBytes = new Uint8Array(b.records);
      }
      this.bytes.set(
        this.lastBytes!.subarray(r * FAULT_RECORD_BYTES, (r + 1) * FAULT_RECORD_BYTES),
        at,
      );
    } else if (HOST_LITTLE_ENDIAN) {
      // The record's ten u32 words straight from the columns (no per-page objects).
      const w = this.words;
      const o = at / 4;
      w[o] = b.flags[r]!;
      w[o + 1] = b.devId[r]!;
      w[o + 2] = b.pasid[r]!;
      w[o + 3] = b.grpid[r]!;
      w[o + 4] = b.perm[r]!;
      w[o + 5] = 0;
      w[o + 6] = b.addrLo[r]!;
      w[o + 7] = b.addrHi[r]!;
      w[o + 8] = b.length[r]!;
      w[o + 9] = b.cookie[r]!;
    } else {
      encodeFaultRecord(
        {
          flags: b.flags[r]!,
          devId: b.devId[r]!,
          pasid: b.pasid[r]!,
          grpid: b.grpid[r]!,
          perm: b.perm[r]!,
          addrHi: b.addrHi[r]!,
          addrLo: b.addrLo[r]!,
          length: b.length[r]!,
          cookie: b.cookie[r]!,
        },
        new DataView(this.bytes.buffer, at, FAULT_RECORD_BYTES),
      );
    }
    this.owner[s] = seq;
  }

  /** Copies of the kept records of group `seq`, which start at absolute `start` (its pages are contiguous). */
  *recordsOf(start: number, pages: number, seq: number): Generator<Uint8Array> {
    for (let p = Math.max(start, this.base); p < start + pages && p < this.next; p++) {
      const s = p % this.capacity;
      if (this.owner[s] !== seq) continue;
      yield this.bytes.slice(s * FAULT_RECORD_BYTES, (s + 1) * FAULT_RECORD_BYTES);
    }
  }

  private grow(): void {
    const next = Math.min(this.capacity * 2, this.max);
    const bytes = new Uint8Array(next * FAULT_RECORD_BYTES);
    bytes.set(this.bytes);
    const owner = new Float64Array(next);
    owner.set(this.owner);
    this.bytes = bytes;
    this.words = new Uint32Array(bytes.buffer);
    this.owner = owner;
    this.capacity = next;
  }
}
