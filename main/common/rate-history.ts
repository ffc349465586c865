// Fixed-size history of per-series rates for the Live charts. Each frame
// carries the core's complete split of its recent buckets (oldest first, the
// last one ending at frame.t): its busiest series plus 'other' for the rest.
// A frame is authoritative for the buckets it covers: a series it does not
// name had no share of them outside 'other', so its values there are zeroed.
// That keeps every bucket's stacked total equal to the core's total for it,
// however the top list changes. Memory stays flat: `capacity` slots per ring,
// at most MAX_TRACKED rings (the quietest is folded into 'other', not lost).
import type { RateSeries } from './contract';

interface Ring {
  label: string;
  values: Float64Array;
}

export interface RateWindowView {
  /** Session seconds at the end of each bucket. */
  times: number[];
  series: { key: string; label: string; values: number[] }[];
}

/** The core's key for the sum of the series it did not name. */
export const OTHER_SERIES = 'other';

/** Distinct series kept; past it the quietest is summed into 'other'. */
export const MAX_TRACKED = 64;

export class RateHistory {
  bucketMs = 0;
  private newest = -1;
  private readonly rings = new Map<string, Ring>();

  constructor(readonly capacity: number) {}

  get newestBucket(): number {
    return this.newest;
  }

  get seriesCount(): number {
    return this.rings.size;
  }

  merge(series: RateSeries[], bucketMs: number, tEndMs: number): void {
    if (bucketMs !== this.bucketMs) {
      this.rings.clear();
      this.bucketMs = bucketMs;
      this.newest = -1;
    }
    if (bucketMs <= 0) return;
    const endBucket = Math.max(0, Math.floor(tEndMs / bucketMs) - 1);
    this.advanceTo(endBucket);
    const covered = Math.min(
      this.capacity,
      series.reduce((n, s) => Math.max(n, s.points.length), 0),
    );
    // Buckets in (endBucket - covered, endBucket] are the frame's; older ones keep their split.
    const first = Math.max(0, endBucket - covered + 1, this.newest - this.capacity + 1);
    const named = new Set(series.map((s) => s.key));
    for (const [key, ring] of this.rings) {
      if (!named.has(key))
        for (let b = first; b <= endBucket; b++) ring.values[b % this.capacity] = 0;
    }
    for (const s of series) {
      let ring = this.rings.get(s.key);
      if (!ring) {
        ring = { label: s.label, values: new Float64Array(this.capacity) };
        this.rings.set(s.key, ring);
      }
      ring.label = s.label;
      const n = s.points.length;
      for (let b = first; b <= endBucket; b++) {
        const j = n - 1 - (endBucket - b);
        ring.values[b % this.capacity] = j >= 0 ? (s.points[j] ?? 0) : 0;
      }
    }
    this.forgetSilent();
    while (this.rings.size > MAX_TRACKED) this.foldQuietest();
  }

  /**
   * The newest `points` buckets: the `top` busiest series in key order, and
   * one 'other' (the core's 'other' plus every series not shown) when any
   * rate is left over.
   */
  window(points: number, top: number): RateWindowView {
    const n = Math.max(0, Math.min(points, this.capacity, this.newest + 1));
    const first = this.newest - n + 1;
    const times: number[] = [];
    for (let b = first; b <= this.newest; b++) times.push(((b + 1) * this.bucketMs) / 1000);
    const all = [...this.rings].map(([key, ring]) => {
      const values: number[] = new Array<number>(n);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = ring.values[(first + i) % this.capacity] ?? 0;
        values[i] = v;
        sum += v;
      }
      return { key, label: ring.label, values, sum };
    });
    const active = all
      .filter((s) => s.sum > 0 && s.key !== OTHER_SERIES)
      .sort((a, b) => b.sum - a.sum || (a.key < b.key ? -1 : 1));
    const shown = active.slice(0, top).sort((a, b) => (a.key < b.key ? -1 : 1));
    const rest = active.slice(top);
    const coreOther = all.find((s) => s.key === OTHER_SERIES && s.sum > 0);
    const out = shown.map(({ key, label, values }) => ({ key, label, values }));
    if (rest.length || coreOther) {
      const values = coreOther ? coreOther.values.slice() : new Array<number>(n).fill(0);
      for (const s of rest) for (let i = 0; i < n; i++) values[i]! += s.values[i] ?? 0;
      const label = coreOther ? 'other' : `${rest.length} others`;
      out.push({ key: OTHER_SERIES, label, values });
    }
    return { times, series: out };
  }

  /** Sum of every series at bucket `bucket` (what the stacked chart shows there). */
  totalAt(bucket: number): number {
    if (bucket > this.newest || bucket <= this.newest - this.capacity || bucket < 0) return 0;
    let sum = 0;
    for (const ring of this.rings.values()) sum += ring.values[bucket % this.capacity] ?? 0;
    return sum;
  }

  private advanceTo(bucket: number): void {
    if (bucket <= this.newest) return;
    const steps = Math.min(bucket - this.newest, this.capacity);
    for (let b = bucket - steps + 1; b <= bucket; b++) {
      for (const ring of this.rings.values()) ring.values[b % this.capacity] = 0;
    }
    this.newest = bucket;
  }

  /** Rings with nothing left in the whole history are dropped (bounded by what is live). */
  private forgetSilent(): void {
    for (const [key, ring] of this.rings)
      if (ring.values.every((v) => v === 0)) this.rings.delete(key);
  }

  /** Sums the quietest named series into 'other', so the totals stay exact. */
  private foldQuietest(): void {
    let quietest: string | null = null;
    let least = Infinity;
    for (const [key, ring] of this.rings) {
      if (key === OTHER_SERIES) continue;
      let sum = 0;
      for (const v of ring.values) sum += v;
      if (sum < least) [least, quietest] = [sum, key];
    }
    if (quietest === null) return;
    const from = this.rings.get(quietest)!;
    let other = this.rings.get(OTHER_SERIES);
    if (!other) {
      other = { label: 'other', values: new Float64Array(this.capacity) };
      this.rings.set(OTHER_SERIES, other);
    }
    for (let i = 0; i < this.capacity; i++) other.values[i]! += from.values[i]!;
    this.rings.delete(quietest);
  }
}
