// Main → renderer traffic, coalesced: whatever the fault rate, listeners get
// at most MAX_FRAMES_PER_SECOND frames, each a snapshot of the counters; the
// charts (rates, latency) ride along only every `chartIntervalMs`. A frame is
// sent only when something changed, plus a slow heartbeat while a session is
// open (so rates decay to zero on screen); an idle core sends nothing.
import { MAX_FRAMES_PER_SECOND, type Frame } from '../../common/contract';

/** Timer functions, injectable so tests can run a flood in simulated time. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Everything of a frame but its sequence number; charts only when asked. */
export type FrameContent = Omit<Frame, 'seq' | 'rates' | 'latency'> &
  Partial<Pick<Frame, 'rates' | 'latency'>>;

export interface FrameSource {
  frame(withCharts: boolean): FrameContent;
}

export interface FrameBuilderOptions {
  source: FrameSource;
  send: (frame: Frame) => void;
  clock?: Clock;
  maxPerSecond?: number;
  chartIntervalMs?: number;
  heartbeatMs?: number;
}

export class FrameBuilder {
  private readonly source: FrameSource;
  private readonly send: (frame: Frame) => void;
  private readonly clock: Clock;
  /** Smallest gap between frames, rounded up so a second never holds more than the cap. */
  readonly minGapMs: number;
  readonly chartIntervalMs: number;
  readonly heartbeatMs: number;
  private seq = 0;
  private lastSentAt = -Infinity;
  private lastChartAt = -Infinity;
  private timer: unknown;
  private heartbeat: unknown;
  private disposed = false;
  /** Frames sent so far (for tests and the bench). */
  sent = 0;

  constructor(opts: FrameBuilderOptions) {
    this.source = opts.source;
    this.send = opts.send;
    this.clock = opts.clock ?? realClock;
    this.minGapMs = Math.ceil(1000 / (opts.maxPerSecond ?? MAX_FRAMES_PER_SECOND));
    this.chartIntervalMs = opts.chartIntervalMs ?? 500;
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
  }

  /** Something in the core changed: a frame goes out as soon as the cap allows. */
  changed(): void {
    if (this.disposed || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastSentAt + this.minGapMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  /** Heartbeat on while a session is open, off otherwise. */
  setActive(active: boolean): void {
    if (this.heartbeat !== undefined) {
      this.clock.clearTimeout(this.heartbeat);
      this.heartbeat = undefined;
    }
    if (active && !this.disposed) this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.clock.setTimeout(() => {
      this.heartbeat = undefined;
      if (this.clock.now() - this.lastSentAt >= this.heartbeatMs - 1) this.changed();
      if (!this.disposed) this.scheduleHeartbeat();
    }, this.heartbeatMs);
  }

  /** A complete frame (charts included) outside the schedule, e.g. for stream.resync. */
  full(): Frame {
    return { ...this.source.frame(true), seq: ++this.seq };
  }

  private flush(): void {
    if (this.disposed) return;
    const now = this.clock.now();
    const withCharts = now - this.lastChartAt >= this.chartIntervalMs;
    if (withCharts) this.lastChartAt = now;
    this.lastSentAt = now;
    const frame: Frame = { ...this.source.frame(withCharts), seq: ++this.seq };
    this.sent++;
    this.send(frame);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.heartbeat !== undefined) this.clock.clearTimeout(this.heartbeat);
    this.timer = this.heartbeat = undefined;
  }
}
