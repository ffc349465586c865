// The Live charts' windows beyond the renderer's own 10 minutes (30 min to
// 24 h): fetched from the core's rate archive (rates.history) when chosen and
// every REFRESH_MS while shown, so they survive a reload. Also seeds the
// 10-minute rings once per connection: a reloaded page starts with the
// history the core kept, not an empty chart.
import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef } from 'vue';
import type { RateHistoryView, RateSeries } from '../../../main/common/contract';
import { useCore } from '../transport';
import { errorMessage } from '../format';
import { RateHistory, type RateWindow } from './rate-history';
import { HISTORY_POINTS, useLiveStore } from './live';

/** Points per long-window chart (24 h: one per 2 minutes). */
export const ARCHIVE_POINTS = 720;
const REFRESH_MS = 10_000;

export interface ArchiveCharts {
  seconds: number;
  byDevice: RateWindow;
  byPasid: RateWindow;
}

/**
 * The archive's answer as the charts' window view (its 'other' kept as is);
 * points before the session started are left out.
 */
function toWindow(v: RateHistoryView, series: RateSeries[]): RateWindow {
  const n = series.reduce((m, s) => Math.max(m, s.points.length), 0);
  const keep = Math.min(n, Math.max(1, Math.ceil(v.tEndMs / v.bucketMs)));
  const times: number[] = [];
  for (let i = n - keep; i < n; i++) times.push((v.tEndMs - (n - 1 - i) * v.bucketMs) / 1000);
  return {
    times,
    series: series.map((s) => {
      const padded = [...new Array<number>(n - s.points.length).fill(0), ...s.points];
      return { key: s.key, label: s.label, values: padded.slice(n - keep) };
    }),
  };
}

export const useRateArchiveStore = defineStore('rateArchive', () => {
  const charts = shallowRef<ArchiveCharts | null>(null);
  const error = ref<string | null>(null);
  let timer: ReturnType<typeof setInterval> | null = null;
  let want = 0;

  async function load(seconds: number): Promise<void> {
    want = seconds;
    try {
      const v = await useCore().request('rates.history', { seconds, points: ARCHIVE_POINTS });
      if (want !== seconds) return; // another window was chosen meanwhile
      charts.value = markRaw({
        seconds,
        byDevice: toWindow(v, v.byDevice),
        byPasid: toWindow(v, v.byPasid),
      });
      error.value = null;
    } catch (err) {
      error.value = `rates.history: ${errorMessage(err)}`;
    }
  }

  /** Show window `seconds` from the core (0: stop, the live rings serve it). */
  function follow(seconds: number): void {
    if (timer) clearInterval(timer);
    timer = null;
    if (seconds <= 0) {
      want = 0;
      charts.value = null;
      return;
    }
    void load(seconds);
    timer = setInterval(() => void load(seconds), REFRESH_MS);
  }

  /** Fill the live rings with the core's last 10 minutes at 1 s (after a (re)connection). */
  async function seedLive(): Promise<void> {
    const live = useLiveStore();
    try {
      const v = await useCore().request('rates.history', {
        seconds: 600,
        points: HISTORY_POINTS,
      });
      if (v.tEndMs <= 0) return;
      const seed = (ring: RateHistory, series: RateSeries[]): void => {
        // Only into rings at the same bucket size (or still empty).
        if (ring.bucketMs !== 0 && ring.bucketMs !== v.bucketMs) return;
        ring.merge(series, v.bucketMs, v.tEndMs);
      };
      seed(live.byDevice, v.byDevice);
      seed(live.byPasid, v.byPasid);
      live.chartVersion++;
    } catch {
      // No history yet (or an older core): the rings fill from frames.
    }
  }

  return { charts, error, follow, seedLive };
});
