// Rate history kept in the core for the Live charts' long windows, so it
// outlives the renderer (a reload, a second window): page requests per
// series at 1 s for 10 minutes and at 10 s for 24 hours. Memory is bounded:
// at most ARCHIVE_MAX_KEYS series per tier plus 'other' (later series count
// towards 'other'), i.e. (64 + 1) x (601 + 8641) buckets x 8 bytes = 4.8 MB
// per archive, two archives (device, PASID) per session: under 10 MB.
// rates.history reads it, averaged down to at most `points` per series.
import type { RateSeries } from '../../common/contract';
import { RateWindow } from './rate-window';

export const ARCHIVE_MAX_KEYS = 64;
/** Resolution tiers, finest first: each covers bucketMs x (buckets - 1) of complete buckets. */
export const ARCHIVE_TIERS: readonly { bucketMs: number; buckets: number }[] = [
  { bucketMs: 1000, buckets: 601 },
  { bucketMs: 10_000, buckets: 8641 },
];
/** The longest window the archive answers. */
export const ARCHIVE_MAX_SECONDS = 86_400;

export interface ArchiveView {
  /** Width of one returned point (a tier's bucket times the averaging factor). */
  bucketMs: number;
  /** Session ms at the end of the last point. */
  tEndMs: number;
  series: RateSeries[];
}

export class RateArchive {
  private readonly tiers: RateWindow[];

  constructor(maxKeys = ARCHIVE_MAX_KEYS) {
    this.tiers = ARCHIVE_TIERS.map(
      (t) => new RateWindow({ bucketMs: t.bucketMs, buckets: t.buckets, maxKeys }),
    );
  }

  add(key: string, label: string, tMs: number, n: number): void {
    for (const t of this.tiers) t.add(key, label, tMs, n);
  }

  /**
   * The last `seconds` up to `nowMs` from the finest tier that covers them,
   * at most `points` points per series (neighbouring buckets averaged, the
   * last point ending at the newest complete bucket), the `maxSeries - 1`
   * busiest series plus 'other'.
   */
  view(nowMs: number, seconds: number, points: number, maxSeries: number): ArchiveView {
    const wantMs = Math.min(seconds, ARCHIVE_MAX_SECONDS) * 1000;
    const tier =
      this.tiers.find((t) => t.bucketMs * (t.buckets - 1) >= wantMs) ?? this.tiers.at(-1)!;
    const n = Math.min(tier.buckets - 1, Math.ceil(wantMs / tier.bucketMs));
    const factor = Math.max(1, Math.ceil(n / Math.max(1, points)));
    const tEndMs = Math.floor(Math.max(0, nowMs) / tier.bucketMs) * tier.bucketMs;
    const series = tier.series(nowMs, maxSeries).map((s) => ({
      key: s.key,
      label: s.label,
      points: average(s.points.slice(-n), factor),
    }));
    return { bucketMs: tier.bucketMs * factor, tEndMs, series };
  }
}

/** Means of `factor` neighbouring values, grouped so the last group ends at the last value. */
function average(values: number[], factor: number): number[] {
  if (factor === 1) return values;
  const out: number[] = [];
  const start = values.length % factor === 0 ? 0 : (values.length % factor) - factor;
  for (let i = start; i < values.length; i += factor) {
    let sum = 0;
    for (let k = Math.max(0, i); k < i + factor; k++) sum += values[k] ?? 0;
    out.push(sum / factor);
  }
  return out;
}
