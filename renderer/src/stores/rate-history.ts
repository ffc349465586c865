// Fixed-size history of per-series rates for the Live chart. Frames carry
// each series' recent buckets (oldest first, the last one ending at frame.t);
// they are merged by bucket number into ring buffers of `capacity` slots, so
// memory stays flat however long the session runs or however many frames come.
import type { RateSeries } from '../../../main/common/contract';

interface Ring {
  label: string;
  values: Float64Array;
}

export interface RateWindow {
  /** Session seconds at the end of each bucket. */
  times: number[];
  series: { key: string; label: string; values: number[] }[];
}

/** Series beyond this many distinct keys are not tracked (the biggest are kept). */
const MAX_TRACKED = 64;

export class RateHistory {
  bucketMs = 0;
  private newest = -1;
  private readonly rings = new Map<string, Ring>();

  constructor(readonly capacity: number) {}

  get newestBucket(): number {
    return this.newest;
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
    for (const s of series) {
      let ring = this.rings.get(s.key);
      if (!ring) {
        if (this.rings.size >= MAX_TRACKED) this.dropQuietest();
        ring = { label: s.label, values: new Float64Array(this.capacity) };
        this.rings.set(s.key, ring);
      }
      ring.label = s.label;
      const n = s.points.length;
      for (let j = Math.max(0, n - this.capacity); j < n; j++) {
        const b = endBucket - (n - 1 - j);
        if (b < 0 || b <= this.newest - this.capacity) continue;
        ring.values[b % this.capacity] = s.points[j] ?? 0;
      }
    }
  }

  /** The newest `points` buckets; the `top` busiest series, the rest summed as 'other'. */
  window(points: number, top: number): RateWindow {
    const n = Math.min(points, this.capacity, this.newest + 1);
    const first = this.newest - n + 1;
    const times: number[] = [];
    for (let b = first; b <= this.newest; b++) times.push(((b + 1) * this.bucketMs) / 1000);
    const all = [...this.rings].map(([key, ring]) => {
      const values: number[] = new Array(n);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = ring.values[(first + i) % this.capacity] ?? 0;
        values[i] = v;
        sum += v;
      }
      return { key, label: ring.label, values, sum };
    });
    const active = all.filter((s) => s.sum > 0).sort((a, b) => b.sum - a.sum);
    const shown = active.slice(0, top);
    const rest = active.slice(top);
    if (rest.length) {
      const values = new Array<number>(n).fill(0);
      for (const s of rest) for (let i = 0; i < n; i++) values[i]! += s.values[i] ?? 0;
      shown.push({ key: 'other', label: `${rest.length} others`, values, sum: 0 });
    }
    return { times, series: shown.map(({ key, label, values }) => ({ key, label, values })) };
  }

  get seriesCount(): number {
    return this.rings.size;
  }

  private advanceTo(bucket: number): void {
    if (bucket <= this.newest) return;
    const steps = Math.min(bucket - this.newest, this.capacity);
    for (let b = bucket - steps + 1; b <= bucket; b++) {
      for (const ring of this.rings.values()) ring.values[b % this.capacity] = 0;
    }
    this.newest = bucket;
  }

  private dropQuietest(): void {
    let quietest: string | null = null;
    let least = Infinity;
    for (const [key, ring] of this.rings) {
      let sum = 0;
      for (const v of ring.values) sum += v;
      if (sum < least) [least, quietest] = [sum, key];
    }
    if (quietest !== null) this.rings.delete(quietest);
  }
}
