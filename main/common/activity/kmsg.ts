// /dev/kmsg records (Documentation/ABI/testing/dev-kmsg): one read() returns
// one record, `prio,seq,usec,flags[,...];message\n` followed by continuation
// lines ` KEY=value\n` (the device dictionary). The kernel escapes
// non-printable bytes in the message as \xNN; we undo that only for display.
// Sequence numbers let the reader see records it missed (the ring buffer
// overwrote them: read() fails with EPIPE) or got twice.

export interface KmsgRecord {
  /** syslog facility (prio >> 3) and level (prio & 7). */
  facility: number;
  level: number;
  seq: number;
  /** Microseconds since boot (CLOCK_MONOTONIC of the kernel's printk). */
  usec: number;
  /** '-' for a normal record, 'c' for a continuation fragment. */
  flags: string;
  message: string;
  /** ' SUBSYSTEM=pci', ' DEVICE=+pci:0000:00:05.0' ... */
  dict: Record<string, string>;
}

export type KmsgParse = { ok: true; record: KmsgRecord } | { ok: false; reason: string };

const HEADER = /^(\d+),(\d+),(\d+),([^,;]*)(?:,[^;]*)?;/;

/** Parses one record as read from /dev/kmsg (latin1/utf8 text, trailing newline optional). */
export function parseKmsgRecord(text: string): KmsgParse {
  const m = HEADER.exec(text);
  if (!m) return { ok: false, reason: 'no "prio,seq,usec,flags;" header' };
  const body = text.slice(m[0].length);
  const lines = body.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const message = lines.shift();
  if (message === undefined) return { ok: false, reason: 'header without a message' };
  const dict: Record<string, string> = {};
  for (const l of lines) {
    const eq = l.indexOf('=');
    if (!l.startsWith(' ') || eq < 0) return { ok: false, reason: `bad continuation line '${l}'` };
    dict[l.slice(1, eq)] = l.slice(eq + 1);
  }
  const prio = Number(m[1]);
  const seq = Number(m[2]);
  const usec = Number(m[3]);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(usec))
    return { ok: false, reason: 'sequence or time out of range' };
  return {
    ok: true,
    record: { facility: prio >> 3, level: prio & 7, seq, usec, flags: m[4]!, message, dict },
  };
}

/** Undoes the kernel's \xNN escaping of non-printable bytes. */
export function unescapeKmsg(message: string): string {
  return message.replace(/\\x([0-9a-f]{2})/g, (_, h: string) =>
    String.fromCharCode(parseInt(h, 16)),
  );
}

export type SequenceVerdict =
  | { kind: 'next' }
  | { kind: 'first' }
  | { kind: 'gap'; missed: number; from: number; to: number }
  | { kind: 'duplicate' };

/**
 * Follows the kernel's record sequence: each record is the next one, the
 * first seen, after a gap (records lost to the ring buffer), or a record
 * already seen (never processed twice).
 */
export class KmsgSequence {
  private last: number | null = null;
  missed = 0;
  duplicates = 0;
  gaps = 0;

  check(seq: number): SequenceVerdict {
    const last = this.last;
    if (last === null) {
      this.last = seq;
      return { kind: 'first' };
    }
    if (seq <= last) {
      this.duplicates++;
      return { kind: 'duplicate' };
    }
    this.last = seq;
    if (seq === last + 1) return { kind: 'next' };
    const missed = seq - last - 1;
    this.missed += missed;
    this.gaps++;
    return { kind: 'gap', missed, from: last + 1, to: seq - 1 };
  }

  /** The last sequence number accepted, or null before the first. */
  get lastSeq(): number | null {
    return this.last;
  }
}
