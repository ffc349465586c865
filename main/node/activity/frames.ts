// Reader of iommuscope-capture's frames (native/capture/frames.h): a u32
// payload length, u16 type, u16 zero, then the payload. Bytes arrive in
// arbitrary chunks from the pipe; whole frames come out. A frame longer
// than the helper may send means the stream is corrupt: the reader stops
// and says so instead of allocating whatever the length claims.

export const FRAME = {
  hello: 1,
  source: 2,
  kmsg: 3,
  format: 4,
  trace: 5,
  traceLost: 6,
  interrupts: 7,
  debugfs: 8,
  kmsgLost: 9,
  ready: 10,
  counts: 11,
} as const;

/** kCounts: the helper's per-interval counts of the high-rate tracepoints (native/capture/trace_counts.h). */
export interface HelperCounts {
  map: { count: number; bytes: number };
  unmap: { count: number; bytes: number };
  /** unit -> descriptor type -> count */
  qi: Record<string, Record<string, number>>;
  /** 'unit device' -> count */
  flush: Record<string, number>;
  prq: Record<string, number>;
  /** Records too short for their format. */
  bad: number;
}

export const MAX_FRAME = 1 << 20;

export interface Frame {
  type: number;
  payload: Buffer;
}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  error: string | null = null;

  push(chunk: Buffer): Frame[] {
    if (this.error) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Frame[] = [];
    let buf =
      this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    let off = 0;
    while (buf.length - off >= 8) {
      const len = buf.readUInt32LE(off);
      const type = buf.readUInt16LE(off + 4);
      if (len > MAX_FRAME || buf.readUInt16LE(off + 6) !== 0) {
        this.error = `corrupt capture stream: frame of ${len} bytes, type ${type} at byte ${off}`;
        this.chunks = [];
        this.buffered = 0;
        return out;
      }
      if (buf.length - off < 8 + len) break;
      out.push({ type, payload: buf.subarray(off + 8, off + 8 + len) });
      off += 8 + len;
    }
    buf = buf.subarray(off);
    this.chunks = buf.length ? [buf] : [];
    this.buffered = buf.length;
    return out;
  }
}

export interface TraceSample {
  cpu: number;
  /** CLOCK_MONOTONIC nanoseconds. */
  timeNs: bigint;
  raw: Uint8Array;
}

/** Splits a trace frame into its samples; a short sample ends the frame (counted by the caller). */
export function traceSamples(payload: Buffer): { samples: TraceSample[]; truncated: boolean } {
  const cpu = payload.readUInt32LE(0);
  const count = payload.readUInt32LE(4);
  const samples: TraceSample[] = [];
  let off = 8;
  for (let i = 0; i < count; i++) {
    if (off + 12 > payload.length) return { samples, truncated: true };
    const timeNs = payload.readBigUInt64LE(off);
    const size = payload.readUInt32LE(off + 8);
    if (off + 12 + size > payload.length) return { samples, truncated: true };
    samples.push({ cpu, timeNs, raw: payload.subarray(off + 12, off + 12 + size) });
    off += 12 + size;
  }
  return { samples, truncated: false };
}
