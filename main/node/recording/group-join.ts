// Joins each group's read with its answer while streaming a recording, for
// the exports: one GroupRow per group, emitted when answered (answer order),
// and the ones still pending at the end of the file by finish().
import { decodeFaultRecord, FAULT_RECORD_BYTES, FaultFlag } from '../../common/fault-record';
import type { AnswerFrame, DecodedFrame, GroupReadFrame } from './frames';

export interface GroupRow {
  queue: number;
  group: number;
  cookie: number;
  /** From the first record; null when the batch left the records out. */
  devId: number | null;
  pasid: number | null;
  grpid: number | null;
  perm: number | null;
  addr: string | null;
  pages: number;
  readNs: number;
  /** null while pending at the end of the recording. */
  answer: Pick<AnswerFrame, 'code' | 'by' | 'rule' | 'latencyNs' | 'monoNs'> | null;
}

export class GroupJoin {
  private readonly pending = new Map<number, GroupReadFrame>();

  constructor(private readonly emit: (row: GroupRow) => void) {}

  add(f: DecodedFrame): void {
    if (f.kind === 'read') this.pending.set(f.group, f);
    else if (f.kind === 'answer') {
      const read = this.pending.get(f.group);
      this.pending.delete(f.group);
      if (read) this.emit(row(read, f));
      // An answer without its read: the read came before the recording started.
    }
  }

  finish(): void {
    for (const r of this.pending.values()) this.emit(row(r, null));
    this.pending.clear();
  }
}

function row(r: GroupReadFrame, a: AnswerFrame | null): GroupRow {
  const rec =
    r.records && r.records.length >= FAULT_RECORD_BYTES
      ? decodeFaultRecord(
          new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength),
        )
      : null;
  return {
    queue: r.queue,
    group: r.group,
    cookie: r.cookie,
    devId: rec ? rec.devId : null,
    pasid: rec ? (rec.flags & FaultFlag.PasidValid ? rec.pasid : null) : null,
    grpid: rec ? rec.grpid : null,
    perm: rec ? rec.perm : null,
    addr: rec ? rec.addr : null,
    pages: r.pages,
    readNs: r.monoNs,
    answer: a
      ? { code: a.code, by: a.by, rule: a.rule, latencyNs: a.latencyNs, monoNs: a.monoNs }
      : null,
  };
}
