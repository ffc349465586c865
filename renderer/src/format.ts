// Number and address formatting shared by the views (monospace columns).
import { permString } from '../../main/common/fault-record';

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** '1 device', '2 devices' (the plural is the word plus 's' unless given). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${fmtInt(n)} ${n === 1 ? word : many}`;
}

/** 1234567 → '1.23M'; for rates and counters in tight places. */
export function fmtCompact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

export function fmtUs(us: number | null): string {
  if (us === null) return '';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  return `${us.toFixed(us < 10 ? 1 : 0)} µs`;
}

/** Session-relative milliseconds as m:ss.mmm. */
export function fmtSessionMs(ms: number): string {
  const m = Math.floor(ms / 60000);
  const s = (ms % 60000) / 1000;
  return `${m}:${s.toFixed(3).padStart(6, '0')}`;
}

export function fmtPerm(perm: number): string {
  return permString(perm);
}

export function fmtHex(n: number, width = 0): string {
  return `0x${(n >>> 0).toString(16).padStart(width, '0')}`;
}

/** The fields of struct iommu_hwpt_pgfault, 8 bytes per line. */
const RECORD_LINES = [
  'flags · dev_id',
  'pasid · grpid',
  'perm · __reserved',
  'addr',
  'length · cookie',
];

/**
 * A 40-byte fault record as read, one line per 8 bytes with the fields they
 * hold, so the bytes line up with the struct (little-endian u32/u64).
 */
export function recordDump(hex: string): string[] {
  const clean = hex.replace(/^0x/, '').replace(/[^0-9a-fA-F]/g, '');
  const bytes: string[] = [];
  for (let i = 0; i + 1 < clean.length; i += 2) bytes.push(clean.slice(i, i + 2).toLowerCase());
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 8) {
    const label = RECORD_LINES[off / 8] ?? '';
    const hexPart = bytes.slice(off, off + 8).join(' ');
    lines.push(
      `${off.toString(16).padStart(4, '0')}  ${hexPart.padEnd(23, ' ')}  ${label}`.trimEnd(),
    );
  }
  return lines;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
