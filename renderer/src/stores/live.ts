// Live counters and chart data from the core's frames. Counters are replaced
// every frame (cheap); chart data moves only when a frame carries `rates` or
// `latency`, into fixed-size ring buffers, and `chartVersion` tells the charts
// to redraw.
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, watch } from 'vue';
import type { Frame } from '../../../main/common/contract';
import { RateHistory } from './rate-history';

/** Points a chart can show from frames (10 min at the core's 1 s buckets). */
export const HISTORY_POINTS = 600;
/** Windows served by the core's rate archive (rates.history), beyond the frames' history. */
export const ARCHIVE_WINDOWS: readonly number[] = [1800, 3600, 21_600, 86_400];
const SHORT_WINDOWS: readonly number[] = [30, 60, 120, 300, 600];
const WINDOW_KEY = 'iommuscope.live.window';

function loadWindow(): number {
  try {
    const v = Number(localStorage.getItem(WINDOW_KEY));
    return [...SHORT_WINDOWS, ...ARCHIVE_WINDOWS].includes(v) ? v : 60;
  } catch {
    return 60;
  }
}

export interface LatencyHistogram {
  edgesUs: number[];
  counts: number[];
  p50Us: number;
  p99Us: number;
}

declare global {
  interface Window {
    /** Frames received by this page (read by bench:ui and the UI tests). */
    __iommuscopeFrames?: number;
  }
}

export const useLiveStore = defineStore('live', () => {
  /** The newest frame without its chart payload (counters, newest rows). */
  const frame = shallowRef<Frame | null>(null);
  const latency = shallowRef<LatencyHistogram | null>(null);
  // markRaw: the ring buffers are plain data; reactivity comes from chartVersion.
  const byDevice = markRaw(new RateHistory(HISTORY_POINTS));
  const byPasid = markRaw(new RateHistory(HISTORY_POINTS));
  /** Bumped when chart data changed; charts watch it. */
  const chartVersion = ref(0);
  const latencyVersion = ref(0);
  const paused = ref(false);
  /** Kept across reloads (the long windows' data is in the core, so it is still there). */
  const windowSeconds = ref(loadWindow());
  watch(windowSeconds, (v) => {
    try {
      localStorage.setItem(WINDOW_KEY, String(v));
    } catch {
      // Storage unavailable: the choice lasts for this page.
    }
  });
  const framesReceived = ref(0);

  function applyFrame(f: Frame): void {
    // A new session restarts seq and t: old history would be misplaced.
    if (frame.value && f.t < frame.value.t) reset();
    frame.value = f;
    framesReceived.value++;
    window.__iommuscopeFrames = (window.__iommuscopeFrames ?? 0) + 1;
    if (f.rates) {
      byDevice.merge(f.rates.byDevice, f.rates.bucketMs, f.t);
      byPasid.merge(f.rates.byPasid, f.rates.bucketMs, f.t);
      if (!paused.value) chartVersion.value++;
    }
    if (f.latency) {
      latency.value = f.latency;
      if (!paused.value) latencyVersion.value++;
    }
  }

  function reset(): void {
    byDevice.merge([], 0, 0);
    byPasid.merge([], 0, 0);
    frame.value = null;
    latency.value = null;
    chartVersion.value++;
    latencyVersion.value++;
  }

  function togglePause(): void {
    paused.value = !paused.value;
    if (!paused.value) {
      chartVersion.value++;
      latencyVersion.value++;
    }
  }

  const bucketMs = computed(() => (chartVersion.value, byDevice.bucketMs || 500));
  const windowPoints = computed(() =>
    Math.max(2, Math.round((windowSeconds.value * 1000) / bucketMs.value)),
  );
  /** Window choices: those that fit in the frames' history, then the core's archive. */
  const windowChoices = computed(() => [
    ...SHORT_WINDOWS.filter((s) => (s * 1000) / bucketMs.value <= HISTORY_POINTS),
    ...ARCHIVE_WINDOWS,
  ]);
  /** The chosen window is drawn from rates.history, not from the frames. */
  const fromArchive = computed(() => ARCHIVE_WINDOWS.includes(windowSeconds.value));

  return {
    frame,
    latency,
    byDevice,
    byPasid,
    chartVersion,
    latencyVersion,
    paused,
    windowSeconds,
    windowPoints,
    windowChoices,
    fromArchive,
    framesReceived,
    applyFrame,
    reset,
    togglePause,
  };
});
