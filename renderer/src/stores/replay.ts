// The replay timeline: the ReplayState every frame of a replay carries, the
// controls (each answered with the new state), and the position shown
// between frames (recorded time moves at `speed` while playing).
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { REPLAY_SPEEDS, type ReplayState } from '../../../main/common/replay-contract';
import { errorMessage } from '../format';
import { useCore } from '../transport';
import { uploadRecording } from '../transport/upload';
import { useAppStore } from './app';
import { useSessionStore } from './session';

/** The ±jump of the arrow keys and buttons, as the CLI's. */
export const JUMP_MS = 10_000;

export const useReplayStore = defineStore('replay', () => {
  const state = shallowRef<ReplayState | null>(null);
  /** performance.now() when `state` arrived. */
  const receivedAt = ref(0);
  /** Ticks while playing, so the position label and slider move between frames. */
  const now = ref(performance.now());
  let ticker: ReturnType<typeof setInterval> | undefined;

  const active = computed(() => state.value !== null);
  const playing = computed(() => !!state.value && !state.value.paused && !state.value.ended);
  const positionMs = computed(() => {
    const s = state.value;
    if (!s) return 0;
    if (!playing.value) return s.positionMs;
    const run = Math.max(0, now.value - receivedAt.value) * s.speed;
    return Math.min(s.durationMs, s.positionMs + run);
  });

  /** `resets` of the last frame: frames, not answers, tell the views to start over. */
  let frameResets: number | null = null;

  /** A frame's state; true when the core replayed from the start since the last frame. */
  function applyFrame(next: ReplayState | null): boolean {
    const before = frameResets;
    frameResets = next?.resets ?? null;
    apply(next);
    return before !== null && next !== null && next.resets !== before;
  }

  /** A new state (from a frame or an answer). */
  function apply(next: ReplayState | null): void {
    state.value = next;
    receivedAt.value = performance.now();
    now.value = receivedAt.value;
    if (playing.value && !ticker) ticker = setInterval(() => (now.value = performance.now()), 100);
    if (!playing.value && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  async function call(fn: () => Promise<ReplayState>): Promise<void> {
    try {
      apply(await fn());
    } catch (err) {
      useAppStore().notify('error', `Replay: ${errorMessage(err)}`);
    }
  }

  const core = () => useCore();
  const pause = () => call(() => core().request('replay.pause', {}));
  const resume = () => call(() => core().request('replay.resume', {}));
  /** Play/pause; play at the end starts over, as a media player does. */
  async function toggle(): Promise<void> {
    if (playing.value) return pause();
    if (state.value?.ended) await seek(0);
    return resume();
  }
  const step = () => call(() => core().request('replay.step', {}));
  const seek = (toMs: number) => {
    const max = state.value?.durationMs ?? 0;
    return call(() =>
      core().request('replay.seek', { toMs: Math.min(max, Math.max(0, Math.round(toMs))) }),
    );
  };
  const jump = (deltaMs: number) => seek(positionMs.value + deltaMs);
  const setSpeed = (x: number) => call(() => core().request('replay.speed', { x }));
  /** The next offered speed up (+1) or down (-1), as the CLI's + and - keys. */
  function nudgeSpeed(dir: 1 | -1): Promise<void> {
    const cur = state.value?.speed ?? 1;
    const next =
      dir > 0
        ? REPLAY_SPEEDS.find((x) => x > cur)
        : [...REPLAY_SPEEDS].reverse().find((x) => x < cur);
    return next === undefined ? Promise.resolve() : setSpeed(next);
  }

  /** The file being uploaded (dropped or picked), null when none. */
  const uploading = ref<string | null>(null);

  /** Send a dropped or picked recording to the core, which saves and opens it. */
  async function openFile(file: File): Promise<boolean> {
    const app = useAppStore();
    if (uploading.value) {
      app.notify(
        'warning',
        `${uploading.value} is still being uploaded; open ${file.name} after it`,
      );
      return false;
    }
    uploading.value = file.name;
    try {
      const opened = await uploadRecording(file);
      useSessionStore().setState(opened);
      app.notify('info', `Replaying ${file.name} (saved as ${opened.file ?? '?'})`);
      return true;
    } catch (err) {
      app.notify('error', `${file.name} did not open: ${errorMessage(err)}`);
      return false;
    } finally {
      uploading.value = null;
    }
  }

  return {
    state,
    uploading,
    openFile,
    active,
    playing,
    positionMs,
    apply,
    applyFrame,
    pause,
    resume,
    toggle,
    step,
    seek,
    jump,
    setSpeed,
    nudgeSpeed,
  };
});
