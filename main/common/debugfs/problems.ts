// Shared by the Intel debugfs decoders: a line that did not have the shape
// the kernel prints is kept with its number and text, counted, and skipped;
// decoding goes on (never a throw), so one odd line cannot hide a unit.

export interface DebugfsProblem {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
  /** The line as read (cut at 200 characters). */
  raw: string;
}

export class ProblemList {
  readonly list: DebugfsProblem[] = [];
  /** Problems past the first MAX_KEPT are counted only. */
  count = 0;
  static readonly MAX_KEPT = 50;

  add(line: number, reason: string, raw: string): void {
    this.count++;
    if (this.list.length < ProblemList.MAX_KEPT)
      this.list.push({ line, reason, raw: raw.slice(0, 200) });
  }
}

/** The file's lines without the final empty one a trailing newline leaves. */
export function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** A hex number as the kernel prints it (with or without 0x), or null. */
export function hexValue(text: string): bigint | null {
  const m = /^(?:0x)?([0-9a-f]{1,16})$/i.exec(text.trim());
  return m ? BigInt(`0x${m[1]!}`) : null;
}

export const hex = (v: bigint): string => `0x${v.toString(16)}`;

export const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

export const bits = (v: bigint, lo: number, width: number): number =>
  Number((v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));

/** What every decoder returns beside its data. */
export interface Decoded {
  problems: DebugfsProblem[];
  problemCount: number;
}
