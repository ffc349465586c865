// Small strict value parsers shared by the --inject / --policy grammars.
// Each returns the value or an error message (string); callers wrap messages
// in a GrammarError naming their input.

const U64_MAX = (1n << 64n) - 1n;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Unsigned decimal integer (or 0x hex) within [min, max]. */
export function parseUint(text: string, what: string, min: number, max: number): Parsed<number> {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) {
    return { ok: false, error: `${what} '${text}' is not a non-negative integer` };
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    return { ok: false, error: `${what} ${text} is out of range ${min}..${max}` };
  }
  return { ok: true, value };
}

/** Non-negative decimal number (fractions allowed), at most `max`; 0 or at least `minPositive`. */
export function parseRate(
  text: string,
  what: string,
  max: number,
  minPositive = 0,
): Parsed<number> {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) {
    return { ok: false, error: `${what} '${text}' is not a non-negative number` };
  }
  const value = Number(text);
  if (value > max) return { ok: false, error: `${what} ${text} is above the maximum ${max}` };
  if (value !== 0 && value < minPositive) {
    return {
      ok: false,
      error: `${what} ${text} is below the minimum ${minPositive} (0 means as fast as possible)`,
    };
  }
  return { ok: true, value };
}

/** 'A-B' or 'A' (inclusive) of unsigned integers within [min, max]. */
export function parseUintRange(
  text: string,
  what: string,
  min: number,
  max: number,
): Parsed<{ min: number; max: number }> {
  const parts = text.split('-');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    return { ok: false, error: `${what} '${text}' is not A-B or A` };
  }
  const lo = parseUint(parts[0] ?? '', what, min, max);
  if (!lo.ok) return lo;
  const hi = parts.length === 2 ? parseUint(parts[1] ?? '', what, min, max) : lo;
  if (!hi.ok) return hi;
  if (hi.value < lo.value) {
    return { ok: false, error: `${what} '${text}': the end is below the start` };
  }
  return { ok: true, value: { min: lo.value, max: hi.value } };
}

/** A 64-bit address as '0x…' hex; returned normalised (lowercase, no leading zeros). */
export function parseHexAddr(text: string, what: string): Parsed<string> {
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(text)) {
    return {
      ok: false,
      error: `${what} '${text}' is not a hex address like 0x100000 (at most 64 bits)`,
    };
  }
  return { ok: true, value: `0x${BigInt(text).toString(16)}` };
}

/** 'A-B' or 'A' of hex addresses, inclusive. */
export function parseHexRange(text: string, what: string): Parsed<{ min: string; max: string }> {
  const parts = text.split('-');
  if (parts.length > 2) return { ok: false, error: `${what} '${text}' is not 0xA-0xB or 0xA` };
  const lo = parseHexAddr(parts[0] ?? '', what);
  if (!lo.ok) return lo;
  const hi = parts.length === 2 ? parseHexAddr(parts[1] ?? '', what) : lo;
  if (!hi.ok) return hi;
  if (BigInt(hi.value) < BigInt(lo.value)) {
    return { ok: false, error: `${what} '${text}': the end is below the start` };
  }
  return { ok: true, value: { min: lo.value, max: hi.value } };
}

/** True when start + pages * pageSize - 1 stays within 64 bits. */
export function addrSpanFits(start: string, pages: number, pageSize: number): boolean {
  return BigInt(start) + BigInt(pages) * BigInt(pageSize) - 1n <= U64_MAX;
}

/** Duration with unit ns, us, ms or s → integer nanoseconds. */
export function parseDurationNs(text: string, what: string, maxNs: number): Parsed<number> {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s)$/.exec(text);
  if (!m) return { ok: false, error: `${what} '${text}' is not a duration like 5ms, 200us, 1s` };
  const scale = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns' | 'us' | 'ms' | 's'];
  const ns = Math.round(Number(m[1]) * scale);
  if (ns > maxNs) return { ok: false, error: `${what} '${text}' is longer than ${maxNs / 1e9} s` };
  return { ok: true, value: ns };
}
