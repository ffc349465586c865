// Histogram of automatic-answer latency (read of a group's last page to the
// native response write), on log-spaced microsecond edges so 1 µs and 10 s
// fit one chart. counts[i] holds edgesUs[i] <= v < edgesUs[i+1]; values
// below the first edge count in the first bucket, above the last in the last.

/** 1 µs .. 10 s, four edges per decade. */
export const LATENCY_EDGES_US: readonly number[] = Array.from({ length: 29 }, (_, k) =>
  Number((10 ** (k / 4)).toPrecision(3)),
);

export class LatencyHistogram {
  readonly edgesUs: readonly number[];
  readonly counts: Float64Array;
  total = 0;

  constructor(edgesUs: readonly number[] = LATENCY_EDGES_US) {
    this.edgesUs = edgesUs;
    this.counts = new Float64Array(edgesUs.length - 1);
  }

  add(us: number): void {
    if (!Number.isFinite(us)) return;
    const e = this.edgesUs;
    let lo = 0;
    let hi = e.length - 2;
    // Binary search for the last edge <= us, clamped to the bucket range.
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (e[mid]! <= us) lo = mid;
      else hi = mid - 1;
    }
    this.counts[lo]! += 1;
    this.total++;
  }

  /** The q-quantile (0..1), interpolated geometrically inside its bucket; 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const target = q * this.total;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (c > 0 && seen + c >= target) {
        const lo = this.edgesUs[i]!;
        const hi = this.edgesUs[i + 1]!;
        const f = Math.min(1, Math.max(0, (target - seen) / c));
        return Number((lo * (hi / lo) ** f).toPrecision(4));
      }
      seen += c;
    }
    return this.edgesUs[this.edgesUs.length - 1]!;
  }

  snapshot(): { edgesUs: number[]; counts: number[]; p50Us: number; p99Us: number } {
    return {
      edgesUs: [...this.edgesUs],
      counts: Array.from(this.counts),
      p50Us: this.quantile(0.5),
      p99Us: this.quantile(0.99),
    };
  }
}
