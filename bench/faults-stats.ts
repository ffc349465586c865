// Small statistics and formatting shared by the bench:faults parts.

/** The C loop's rule, used for both sides: sorted[floor(p% of n)]. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A number for a table cell: 'n/a' when missing. */
export function fmt(x: number | undefined | null, digits = 0): string {
  return x === undefined || x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

/** For the JSON line: NaN/undefined become null, others are kept to 6 significant digits. */
export function num(x: number | undefined | null): number | null {
  if (x === undefined || x === null || !Number.isFinite(x)) return null;
  return Number(x.toPrecision(6));
}
