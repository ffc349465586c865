// FaultBatch (the native queue's flush, see addon-types.ts) ⇄ capture frames.
// A batch becomes its GroupRead frames (read order), Answer frames, Error
// frames, then one BatchEnd frame with the batch's overflow and exact totals;
// the assembler turns those frames back into the same FaultBatch.
import { FAULT_RECORD_BYTES } from '../../common/fault-record';
import type { FaultBatch } from '../native/addon-types';
import type { AnswerFrame, BatchEndFrame, ErrorFrame, Frame, GroupReadFrame } from './frames';

export const RECORDS_LEFT_OUT = 0xffffffff;

/**
 * The frames of one batch. `deliveredNs` is when it reached JS; `readTimes`
 * maps pending groups to their read time (so an answer frame carries read +
 * latency as its time); this function keeps it up to date.
 */
export function framesOfBatch(
  b: FaultBatch,
  deliveredNs: number,
  readTimes: Map<number, number>,
): Frame[] {
  const out: Frame[] = [];
  const r = b.read;
  const records = new Uint8Array(b.records);
  for (let i = 0; i < r.group.length; i++) {
    const first = r.first[i]!;
    const pages = r.pages[i]!;
    const start = first * FAULT_RECORD_BYTES;
    out.push({
      kind: 'read',
      monoNs: r.readNs[i]!,
      queue: b.queue,
      group: r.group[i]!,
      cookie: r.cookie[i]!,
      pages,
      records:
        first === RECORDS_LEFT_OUT
          ? null
          : records.slice(start, start + pages * FAULT_RECORD_BYTES),
    });
    readTimes.set(r.group[i]!, r.readNs[i]!);
  }
  const a = b.answered;
  for (let i = 0; i < a.group.length; i++) {
    const group = a.group[i]!;
    const readNs = readTimes.get(group);
    readTimes.delete(group);
    out.push({
      kind: 'answer',
      monoNs: readNs !== undefined ? readNs + a.latencyNs[i]! : deliveredNs,
      queue: b.queue,
      group,
      cookie: a.cookie[i]!,
      code: a.codes[i]!,
      by: a.by[i]!,
      rule: a.rule[i]!,
      latencyNs: a.latencyNs[i]!,
    });
  }
  for (const e of b.errors) out.push({ kind: 'error', monoNs: deliveredNs, queue: b.queue, ...e });
  out.push({
    kind: 'batch',
    monoNs: deliveredNs,
    queue: b.queue,
    overflow: b.overflow,
    totals: { ...b.totals },
  });
  return out;
}

/** One reassembled batch and when it was delivered in the recorded session. */
export interface RecordedBatch {
  batch: FaultBatch;
  deliveredNs: number;
}

interface Partial {
  reads: GroupReadFrame[];
  answers: AnswerFrame[];
  errors: ErrorFrame[];
}

/** Collects a queue's frames until its BatchEnd, then builds the FaultBatch. */
export class BatchAssembler {
  private readonly open = new Map<number, Partial>();

  private partial(queue: number): Partial {
    let p = this.open.get(queue);
    if (!p) this.open.set(queue, (p = { reads: [], answers: [], errors: [] }));
    return p;
  }

  /** Feed any frame; returns the batch its BatchEnd completes, else null. */
  add(f: Frame | { kind: string }): RecordedBatch | null {
    const frame = f as Frame;
    switch (frame.kind) {
      case 'read':
        this.partial(frame.queue).reads.push(frame);
        return null;
      case 'answer':
        this.partial(frame.queue).answers.push(frame);
        return null;
      case 'error':
        this.partial(frame.queue).errors.push(frame);
        return null;
      case 'batch': {
        const p = this.partial(frame.queue);
        this.open.delete(frame.queue);
        return { batch: buildBatch(frame, p), deliveredNs: frame.monoNs };
      }
      default:
        return null;
    }
  }

  /** Frames read after the last BatchEnd (a recording cut short), per queue. */
  leftover(): number {
    let n = 0;
    for (const p of this.open.values()) n += p.reads.length + p.answers.length + p.errors.length;
    return n;
  }
}

function buildBatch(end: BatchEndFrame, p: Partial): FaultBatch {
  const n = p.reads.length;
  const read = {
    group: new Float64Array(n),
    cookie: new Uint32Array(n),
    first: new Uint32Array(n),
    pages: new Uint32Array(n),
    readNs: new Float64Array(n),
  };
  let recordCount = 0;
  for (const r of p.reads) if (r.records) recordCount += r.pages;
  const records = new Uint8Array(recordCount * FAULT_RECORD_BYTES);
  let next = 0;
  p.reads.forEach((r, i) => {
    read.group[i] = r.group;
    read.cookie[i] = r.cookie;
    read.pages[i] = r.pages;
    read.readNs[i] = r.monoNs;
    if (r.records) {
      read.first[i] = next;
      records.set(r.records, next * FAULT_RECORD_BYTES);
      next += r.pages;
    } else read.first[i] = RECORDS_LEFT_OUT;
  });
  const m = p.answers.length;
  const answered = {
    group: new Float64Array(m),
    cookie: new Uint32Array(m),
    codes: new Uint8Array(m),
    by: new Uint8Array(m),
    rule: new Int16Array(m),
    latencyNs: new Float64Array(m),
  };
  p.answers.forEach((a, i) => {
    answered.group[i] = a.group;
    answered.cookie[i] = a.cookie;
    answered.codes[i] = a.code;
    answered.by[i] = a.by;
    answered.rule[i] = a.rule;
    answered.latencyNs[i] = a.latencyNs;
  });
  return {
    queue: end.queue,
    read,
    records: records.buffer,
    answered,
    errors: p.errors.map(({ group, cookie, code, errno, op, message }) => ({
      group,
      cookie,
      code,
      errno,
      op,
      message,
    })),
    overflow: end.overflow,
    totals: { ...end.totals },
  };
}
