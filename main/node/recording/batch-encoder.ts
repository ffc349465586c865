// The recorder's hot path: a whole FaultBatch straight to its pcapng EPBs in
// one buffer, with no per-frame objects, Buffers or bigints. Byte for byte
// the same as framesOfBatch → encodeFrame → enhancedPacket (the test checks
// that); those stay the readable definition, this is the fast one.
import { FAULT_RECORD_BYTES } from '../../common/fault-record';
import type { FaultBatch } from '../native/addon-types';
import { RECORDS_LEFT_OUT } from './batch-frames';
import { FRAME_VERSION, FrameType, TOTALS_FIELDS } from './frames';
import { PCAPNG_EPB } from './pcapng';

const EPB_OVERHEAD = 32; // block type, length, interface, ts hi/lo, caplen, origlen, trailing length
const READ_FIXED = 28;
const ANSWER_BYTES = 32;
const BATCH_END_BYTES = 12 + 8 * TOTALS_FIELDS.length;
const TWO_32 = 0x1_0000_0000;

/** Splits the capture's wall-minus-monotonic offset once, for timestamp sums in doubles. */
export class TimestampBase {
  private readonly hi: number;
  private readonly lo: number;

  constructor(clockOffsetNs: bigint) {
    this.hi = Number(clockOffsetNs >> 32n);
    this.lo = Number(clockOffsetNs & 0xffffffffn);
  }

  /** Writes ts = offset + round(monoNs) as the EPB's high and low words at `at`. */
  write(buf: Buffer, at: number, monoNs: number): void {
    const m = Math.round(monoNs);
    const mHi = Math.floor(m / TWO_32);
    let lo = this.lo + (m - mHi * TWO_32);
    let hi = this.hi + mHi;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi += 1;
    } else if (lo < 0) {
      lo += TWO_32;
      hi -= 1;
    }
    buf.writeUInt32LE(hi >>> 0, at);
    buf.writeUInt32LE(lo >>> 0, at + 4);
  }
}

function epbHead(
  buf: Buffer,
  at: number,
  total: number,
  payload: number,
  ts: TimestampBase,
  monoNs: number,
): number {
  buf.writeUInt32LE(PCAPNG_EPB, at);
  buf.writeUInt32LE(total, at + 4);
  buf.writeUInt32LE(0, at + 8);
  ts.write(buf, at + 12, monoNs);
  buf.writeUInt32LE(payload, at + 20);
  buf.writeUInt32LE(payload, at + 24);
  return at + 28;
}

function frameHead(buf: Buffer, at: number, type: number): void {
  buf.writeUInt16LE(type, at);
  buf.writeUInt16LE(FRAME_VERSION, at + 2);
}

/**
 * The EPBs of every frame of `b` except errors (which the caller appends the
 * slow way: they are rare), as framesOfBatch orders them: reads, answers,
 * then, after the errors, the batch end (returned separately).
 */
export function encodeBatchFast(
  b: FaultBatch,
  deliveredNs: number,
  readTimes: Map<number, number>,
  ts: TimestampBase,
): { body: Buffer; end: Buffer } {
  const r = b.read;
  const a = b.answered;
  let size = a.group.length * (EPB_OVERHEAD + ANSWER_BYTES);
  for (let i = 0; i < r.group.length; i++) {
    const rec = r.first[i] === RECORDS_LEFT_OUT ? 0 : r.pages[i]! * FAULT_RECORD_BYTES;
    size += EPB_OVERHEAD + READ_FIXED + rec; // already 4-aligned
  }
  const buf = Buffer.allocUnsafe(size);
  const records = Buffer.from(b.records);
  let at = 0;
  for (let i = 0; i < r.group.length; i++) {
    const first = r.first[i]!;
    const pages = r.pages[i]!;
    const rec = first === RECORDS_LEFT_OUT ? 0 : pages * FAULT_RECORD_BYTES;
    const payload = READ_FIXED + rec;
    const total = EPB_OVERHEAD + payload;
    const p = epbHead(buf, at, total, payload, ts, r.readNs[i]!);
    frameHead(buf, p, FrameType.GroupRead);
    buf.writeUInt32LE(b.queue, p + 4);
    buf.writeDoubleLE(r.group[i]!, p + 8);
    buf.writeUInt32LE(r.cookie[i]!, p + 16);
    buf.writeUInt32LE(pages, p + 20);
    buf.writeUInt32LE(rec ? 0 : 1, p + 24);
    if (rec)
      records.copy(buf, p + 28, first * FAULT_RECORD_BYTES, first * FAULT_RECORD_BYTES + rec);
    buf.writeUInt32LE(total, at + total - 4);
    readTimes.set(r.group[i]!, r.readNs[i]!);
    at += total;
  }
  for (let i = 0; i < a.group.length; i++) {
    const group = a.group[i]!;
    const readNs = readTimes.get(group);
    readTimes.delete(group);
    const total = EPB_OVERHEAD + ANSWER_BYTES;
    const p = epbHead(
      buf,
      at,
      total,
      ANSWER_BYTES,
      ts,
      readNs !== undefined ? readNs + a.latencyNs[i]! : deliveredNs,
    );
    frameHead(buf, p, FrameType.Answer);
    buf.writeUInt32LE(b.queue, p + 4);
    buf.writeDoubleLE(group, p + 8);
    buf.writeUInt32LE(a.cookie[i]!, p + 16);
    buf.writeUInt8(a.codes[i]!, p + 20);
    buf.writeUInt8(a.by[i]!, p + 21);
    buf.writeInt16LE(a.rule[i]!, p + 22);
    buf.writeDoubleLE(a.latencyNs[i]!, p + 24);
    buf.writeUInt32LE(total, at + total - 4);
    at += total;
  }
  const endTotal = EPB_OVERHEAD + BATCH_END_BYTES;
  const end = Buffer.allocUnsafe(endTotal);
  const p = epbHead(end, 0, endTotal, BATCH_END_BYTES, ts, deliveredNs);
  frameHead(end, p, FrameType.BatchEnd);
  end.writeUInt32LE(b.queue, p + 4);
  end.writeUInt32LE(b.overflow, p + 8);
  TOTALS_FIELDS.forEach((k, i) => end.writeDoubleLE(b.totals[k], p + 12 + 8 * i));
  end.writeUInt32LE(endTotal, endTotal - 4);
  return { body: buf, end };
}
