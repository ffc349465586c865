// Paced TRIGGER_VEVENT calls for the selftest vEVENTQ source. Triggering is
// one ioctl per event from the main thread, in slices so the event loop keeps
// running (the native reader thread reads meanwhile); reading never waits on it.
import type { VeventInjectSpec } from '../../common/vevent-inject';

export interface VeventInjectProgress {
  injected: number;
  failed: number;
  done: boolean;
  lastError?: string;
}

/** At most this many triggers per slice at rate=0 (then the loop runs again). */
const SLICE = 256;
const TICK_MS = 5;

export class VeventInjector {
  private injected = 0;
  private failed = 0;
  private lastError: string | undefined;
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private startedMs = 0;
  private stopped = false;

  constructor(
    private readonly spec: VeventInjectSpec,
    private readonly trigger: () => void,
  ) {}

  /** The burst of `prefill` events, before the reader starts. */
  prefill(): void {
    this.fire(this.spec.prefill);
  }

  /** The rest, paced; calls onDone once everything was triggered (or failed). */
  start(onDone: () => void): void {
    this.startedMs = performance.now();
    const base = this.injected + this.failed;
    const run = (): void => {
      if (this.stopped) return;
      const left = this.spec.count - this.injected - this.failed;
      let n = Math.min(left, SLICE);
      if (this.spec.rate > 0) {
        const due = Math.floor(((performance.now() - this.startedMs) / 1000) * this.spec.rate);
        n = Math.min(left, Math.max(0, base + due - this.injected - this.failed));
      }
      this.fire(n);
      if (this.injected + this.failed >= this.spec.count || this.failed > 0) {
        this.done = true;
        onDone();
        return;
      }
      if (this.spec.rate > 0) this.timer = setTimeout(run, TICK_MS);
      else this.immediate = setImmediate(run);
    };
    run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  progress(): VeventInjectProgress {
    return {
      injected: this.injected,
      failed: this.failed,
      done: this.done,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private fire(n: number): void {
    for (let i = 0; i < n; i++) {
      try {
        this.trigger();
        this.injected++;
      } catch (err) {
        // A failing trigger fails the same way again: stop at the first one.
        this.failed++;
        this.lastError = err instanceof Error ? err.message : String(err);
        return;
      }
    }
  }
}
