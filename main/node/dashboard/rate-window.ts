// Page requests per second per series (device, or device+PASID) over a
// sliding window of fixed buckets, aggregated in the core at the chart's
// resolution so the renderer draws at most `maxSeries` lines of `buckets`
// points whatever the fault rate. Series beyond the cap are summed into
// 'other'; series idle for a whole window are forgotten (bounded memory).
import type { RateSeries } from '../../common/contract';

export interface RateWindowOptions {
  bucketMs?: number;
  buckets?: number;
  /** Distinct keys tracked; past it new keys count towards 'other' directly. */
  maxKeys?: number;
}

interface Track {
  label: string;
  counts: Float64Array;
}

export const OTHER_KEY = 'other';

export class RateWindow {
  readonly bucketMs: number;
  readonly buckets: number;
  private readonly maxKeys: number;
  private readonly tracks = new Map<string, Track>();
  private readonly overflow: Track;
  /** Absolute bucket number (t / bucketMs) of the newest bucket written. */
  private head = -1;

  constructor(opts: RateWindowOptions = {}) {
    this.bucketMs = opts.bucketMs ?? 1000;
    this.buckets = opts.buckets ?? 60;
    this.maxKeys = opts.maxKeys ?? 4096;
    this.overflow = { label: 'other', counts: new Float64Array(this.buckets) };
  }

  /** Count `n` page requests for `key` at time `tMs` (ms since session start). */
  add(key: string, label: string, tMs: number, n: number): void {
    const bucket = Math.floor(Math.max(0, tMs) / this.bucketMs);
    this.advance(bucket);
    if (bucket <= this.head - this.buckets) return; // older than the window
    let track = this.tracks.get(key);
    if (!track) {
      if (this.tracks.size >= this.maxKeys) {
        track = this.overflow;
      } else {
        track = { label, counts: new Float64Array(this.buckets) };
        this.tracks.set(key, track);
      }
    }
    track.counts[bucket % this.buckets]! += n;
  }

  /** Move the window so its newest bucket is `bucket`, clearing the buckets it passes. */
  advance(bucket: number): void {
    if (bucket <= this.head) return;
    const steps = Math.min(bucket - this.head, this.buckets);
    const all = [...this.tracks.values(), this.overflow];
    for (let k = 1; k <= steps; k++) {
      const slot = (this.head + k) % this.buckets;
      for (const t of all) t.counts[slot] = 0;
    }
    this.head = bucket;
    for (const [key, t] of this.tracks) if (t.counts.every((c) => c === 0)) this.tracks.delete(key);
  }

  /**
   * The window's complete buckets ending before `nowMs`, oldest first, as
   * rates per second; the `maxSeries - 1` busiest series plus 'other'.
   */
  series(nowMs: number, maxSeries: number): RateSeries[] {
    const current = Math.floor(Math.max(0, nowMs) / this.bucketMs);
    this.advance(current);
    const perSecond = 1000 / this.bucketMs;
    const points = (t: Track): number[] => {
      const out: number[] = [];
      // The last complete bucket is current - 1; the current one is partial.
      for (let b = current - this.buckets + 1; b < current; b++) {
        out.push(b < 0 ? 0 : t.counts[b % this.buckets]! * perSecond);
      }
      return out;
    };
    const ranked = [...this.tracks.entries()]
      .map(([key, t]) => ({ key, t, sum: t.counts.reduce((a, c) => a + c, 0) }))
      .filter((e) => e.sum > 0)
      .sort((a, b) => b.sum - a.sum || (a.key < b.key ? -1 : 1));
    const overflowSum = this.overflow.counts.reduce((a, c) => a + c, 0);
    const fits = ranked.length <= maxSeries && overflowSum === 0;
    const shown = fits ? ranked : ranked.slice(0, Math.max(0, maxSeries - 1));
    const out: RateSeries[] = shown
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map((e) => ({ key: e.key, label: e.t.label, points: points(e.t) }));
    if (!fits) {
      const rest: Track = { label: 'other', counts: this.overflow.counts.slice() };
      for (const e of ranked.slice(shown.length)) {
        for (let i = 0; i < this.buckets; i++) rest.counts[i]! += e.t.counts[i]!;
      }
      out.push({ key: OTHER_KEY, label: 'other', points: points(rest) });
    }
    return out;
  }
}
