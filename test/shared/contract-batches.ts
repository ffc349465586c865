// FaultBatches built in TypeScript exactly as addon-types.ts describes them:
// groups numbered 1, 2, 3 ..., each read once and answered once, raw 40-byte
// records, exact per-answerer totals. Used where the native queue is not the
// subject (recording, replay, export, metrics).
import { encodeFaultRecord, FAULT_RECORD_BYTES, FaultFlag } from '../../main/common/fault-record';
import type { FaultBatch } from '../../main/node/native/addon-types';
import { zeroQueueTotals } from '../../main/node/native/queue-totals';

export interface ReadSpec {
  pages: number;
  devId?: number;
  /** null: no PASID_VALID flag. */
  pasid?: number | null;
  perm?: number;
  /** Leave this group's records out of the batch (overflow), as the native cap does. */
  leaveOut?: boolean;
}

export interface AnswerSpec {
  /** Sequence number of a pending group. */
  group: number;
  code: 0 | 1;
  by: 0 | 1 | 2 | 3;
  rule?: number;
  latencyNs?: number;
}

/** A fault queue's JS-visible behaviour: call read/answer, then flush() for the batch. */
export class ContractQueue {
  private nextGroup: number;
  private readonly totals = zeroQueueTotals();
  private readonly pendingCookies = new Map<number, number>();
  private readonly readAt = new Map<number, number>();
  private reads: {
    group: number;
    cookie: number;
    pages: number;
    ns: number;
    rec: Uint8Array | null;
  }[] = [];
  private answers: Required<AnswerSpec & { cookie: number }>[] = [];
  private errors: FaultBatch['errors'] = [];
  private nowNs: number;

  constructor(
    readonly id = 1,
    opts: { firstGroup?: number; startNs?: number } = {},
  ) {
    this.nextGroup = opts.firstGroup ?? 1;
    this.nowNs = opts.startNs ?? 1_000_000_000;
  }

  /** Advance the queue's clock (CLOCK_MONOTONIC ns). */
  tick(ns: number): this {
    this.nowNs += ns;
    return this;
  }

  get now(): number {
    return this.nowNs;
  }

  pendingGroups(): number[] {
    return [...this.pendingCookies.keys()];
  }

  /** One group read; returns its sequence number. */
  read(spec: ReadSpec): number {
    const group = this.nextGroup++;
    let cookie = 1;
    const used = new Set(this.pendingCookies.values());
    while (used.has(cookie)) cookie++; // the kernel reuses the lowest free cookie
    const rec = new Uint8Array(spec.pages * FAULT_RECORD_BYTES);
    const view = new DataView(rec.buffer);
    for (let p = 0; p < spec.pages; p++) {
      const pasid = spec.pasid === undefined ? 1 : spec.pasid;
      encodeFaultRecord(
        {
          flags:
            (pasid !== null ? FaultFlag.PasidValid : 0) |
            (p === spec.pages - 1 ? FaultFlag.LastPage : 0),
          devId: spec.devId ?? 1,
          pasid: pasid ?? 0,
          grpid: group & 0x1ff,
          perm: spec.perm ?? 1,
          addrHi: 0,
          addrLo: 0x100000 + (group * 16 + p) * 4096,
          length: 4096,
          cookie,
        },
        view,
        p * FAULT_RECORD_BYTES,
      );
    }
    this.pendingCookies.set(group, cookie);
    this.readAt.set(group, this.nowNs);
    this.reads.push({
      group,
      cookie,
      pages: spec.pages,
      ns: this.nowNs,
      rec: spec.leaveOut ? null : rec,
    });
    this.totals.faults += spec.pages;
    this.totals.groups++;
    this.totals.pending++;
    this.totals.reads++;
    if (spec.leaveOut) this.totals.overflow += spec.pages;
    return group;
  }

  answer(spec: AnswerSpec): void {
    const cookie = this.pendingCookies.get(spec.group);
    if (cookie === undefined) throw new Error(`group ${spec.group} is not pending`);
    this.pendingCookies.delete(spec.group);
    const latencyNs = spec.latencyNs ?? this.nowNs - this.readAt.get(spec.group)!;
    this.readAt.delete(spec.group);
    this.answers.push({ rule: -1, ...spec, latencyNs, cookie });
    const t = this.totals;
    t.answered++;
    t.pending--;
    if (spec.code === 0) t.success++;
    else t.invalid++;
    const byKey = (['byUser', 'byPolicy', 'byDrain', 'byKernel'] as const)[spec.by];
    t[byKey]++;
  }

  error(e: FaultBatch['errors'][number]): void {
    this.errors.push(e);
    this.totals.errors++;
  }

  /** The batch of everything since the last flush. */
  flush(): FaultBatch {
    const n = this.reads.length;
    let withRecords = 0;
    for (const r of this.reads) if (r.rec) withRecords += r.pages;
    const records = new Uint8Array(withRecords * FAULT_RECORD_BYTES);
    const batch: FaultBatch = {
      queue: this.id,
      read: {
        group: new Float64Array(n),
        cookie: new Uint32Array(n),
        first: new Uint32Array(n),
        pages: new Uint32Array(n),
        readNs: new Float64Array(n),
      },
      records: records.buffer,
      answered: {
        group: Float64Array.from(this.answers, (a) => a.group),
        cookie: Uint32Array.from(this.answers, (a) => a.cookie),
        codes: Uint8Array.from(this.answers, (a) => a.code),
        by: Uint8Array.from(this.answers, (a) => a.by),
        rule: Int16Array.from(this.answers, (a) => a.rule),
        latencyNs: Float64Array.from(this.answers, (a) => a.latencyNs),
      },
      errors: this.errors,
      overflow: 0,
      totals: { ...this.totals },
    };
    let next = 0;
    this.reads.forEach((r, i) => {
      batch.read.group[i] = r.group;
      batch.read.cookie[i] = r.cookie;
      batch.read.pages[i] = r.pages;
      batch.read.readNs[i] = r.ns;
      if (r.rec) {
        batch.read.first[i] = next;
        records.set(r.rec, next * FAULT_RECORD_BYTES);
        next += r.pages;
      } else {
        batch.read.first[i] = 0xffffffff;
        batch.overflow += r.pages;
      }
    });
    this.reads = [];
    this.answers = [];
    this.errors = [];
    return batch;
  }
}

/** A FaultBatch as plain arrays, for deepEqual across typed-array/ArrayBuffer identity. */
export function plainBatch(b: FaultBatch): unknown {
  return {
    queue: b.queue,
    read: Object.fromEntries(
      Object.entries(b.read).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)]),
    ),
    records: Array.from(new Uint8Array(b.records)),
    answered: Object.fromEntries(
      Object.entries(b.answered).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)]),
    ),
    errors: b.errors,
    overflow: b.overflow,
    totals: b.totals,
  };
}
