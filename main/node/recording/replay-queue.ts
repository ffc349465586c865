// A recording played back as a fault queue: the same NativeFaultQueue
// interface the session uses for sim/mock/iommufd, delivering the recorded
// FaultBatches (exactly as recorded: groups, records, answers, totals) paced
// by their recorded delivery times × speed. Replay never writes to a kernel:
// respond() is refused with EROFS and drain() answers nothing; the answers are
// the recorded ones.
//
// Controls: pause/resume, speed, step (one batch while paused), seek to a
// recorded time. Seeking forward delivers every batch up to the target at
// once (consumers stay exact); seeking backward emits 'reset' first, then
// replays from the start up to the target.
import type {
  FaultBatch,
  InjectProgress,
  NativeFaultQueue,
  NativePolicy,
  PendingGroup,
  QueueTotals,
  RespondResult,
} from '../native/addon-types';
import { FAULT_RECORD_BYTES } from '../../common/fault-record';
import { BatchAssembler, RECORDS_LEFT_OUT, type RecordedBatch } from './batch-frames';
import { captureFrames, fileSource, type CaptureEnd } from './capture-reader';
import type { ByteSource } from './bgzf';
import type { DecodedFrame, HeaderFrame, SessionFrame } from './frames';
import { RecordingError } from './recording-error';
import { zeroQueueTotals } from '../native/queue-totals';

export interface ReplayIndex {
  header: HeaderFrame;
  /** Recorded queues with their set-up (first session frame), in order of appearance. */
  sessions: SessionFrame[];
  queues: number[];
  batches: number;
  /** Batches per recorded queue. */
  batchesOf: Map<number, number>;
  firstNs: number | null;
  lastNs: number | null;
  closed: boolean;
  /** Where the file stops being readable, if it does. */
  error: RecordingError | null;
}

/** One pass over the file: what it holds, and whether it reads to the end. */
export function indexRecording(src: ByteSource): ReplayIndex {
  const end: CaptureEnd = { closed: false, header: null };
  const sessions: SessionFrame[] = [];
  const queues = new Set<number>();
  const batchesOf = new Map<number, number>();
  let batches = 0;
  let firstNs: number | null = null;
  let lastNs: number | null = null;
  let error: RecordingError | null = null;
  try {
    for (const { frame } of captureFrames(src, end)) {
      if (frame.kind === 'session') sessions.push(frame);
      if (frame.kind === 'batch') {
        batches++;
        queues.add(frame.queue);
        batchesOf.set(frame.queue, (batchesOf.get(frame.queue) ?? 0) + 1);
        firstNs ??= frame.monoNs;
        lastNs = frame.monoNs;
      }
    }
  } catch (err) {
    if (!(err instanceof RecordingError)) throw err;
    error = err;
  }
  if (!end.header) throw error ?? new RecordingError(0, 'no header', 'corrupt');
  return {
    header: end.header,
    sessions,
    queues: [...queues],
    batches,
    batchesOf,
    firstNs,
    lastNs,
    closed: end.closed,
    error,
  };
}

export interface ReplayOptions {
  /** Recorded time runs this many times faster (default 1; Infinity = as fast as possible). */
  speed?: number;
  /** Which recorded queue to play (default: the first with batches). */
  queue?: number;
  /** This replay queue's id (what `id` returns); default the recorded queue's id. */
  id?: number;
  /** Other frames (policy changes, topology, notes ...) as they are reached. */
  onFrame?: (f: DecodedFrame) => void;
  /** Start paused. */
  paused?: boolean;
}

export type ReplayEvent =
  | { type: 'reset' }
  | { type: 'end'; error: RecordingError | null }
  | { type: 'position'; ns: number };

/** Batches delivered per event-loop turn while catching up (seek, speed Infinity). */
const CATCH_UP_CHUNK = 256;

export class ReplayQueue implements NativeFaultQueue {
  readonly id: number;
  readonly index: ReplayIndex;
  readonly recordedQueue: number;
  private readonly src: ByteSource & { close?: () => void };
  private onBatch: ((b: FaultBatch) => void) | null = null;
  private listeners = new Set<(e: ReplayEvent) => void>();
  private reader: Generator<DecodedFrame> | null = null;
  private asm = new BatchAssembler();
  private next: RecordedBatch | null = null;
  private ended = false;
  private endError: RecordingError | null = null;
  private lastTotals: QueueTotals;
  private readonly pendingGroups = new Map<number, PendingGroup>();
  private timer: NodeJS.Timeout | null = null;
  private paused: boolean;
  private speed: number;
  /** Recorded time reached (the last delivered batch's time). */
  private positionNs: number;
  /** Wall time (performance.now ms) that corresponds to positionNs while playing. */
  private anchorMs = 0;
  private seekTarget: number | null = null;
  private isClosed = false;
  /** Batches of our queue delivered since the start (or the last reset). */
  private deliveredCount = 0;
  /** Seeks back so far (each replays from the start): consumers start their views over. */
  resets = 0;

  constructor(source: string | ByteSource, opts: ReplayOptions = {}) {
    this.src = typeof source === 'string' ? fileSource(source) : source;
    try {
      this.index = indexRecording(this.src);
    } catch (err) {
      this.src.close?.();
      throw err;
    }
    const q = opts.queue ?? this.index.queues[0] ?? this.index.sessions[0]?.queue;
    if (q === undefined || (opts.queue !== undefined && !this.index.queues.includes(q))) {
      this.src.close?.();
      throw new Error(
        opts.queue !== undefined
          ? `the recording has no batches of queue ${opts.queue} (it has ${this.index.queues.join(', ') || 'none'})`
          : 'the recording holds no fault batches to replay',
      );
    }
    this.recordedQueue = q;
    this.id = opts.id ?? q;
    this.speed = opts.speed ?? 1;
    this.paused = opts.paused ?? false;
    this.positionNs = this.index.firstNs ?? 0;
    this.lastTotals = zeroQueueTotals();
    this.onFrame = opts.onFrame;
  }

  private readonly onFrame: ((f: DecodedFrame) => void) | undefined;

  /** The recorded session set-up of the queue being played. */
  session(): SessionFrame | null {
    return this.index.sessions.find((s) => s.queue === this.recordedQueue) ?? null;
  }

  on(fn: (e: ReplayEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // --- NativeFaultQueue ---

  start(onBatch: (b: FaultBatch) => void): void {
    if (this.onBatch) throw new Error('replay queue already started');
    this.onBatch = onBatch;
    this.restart();
    this.anchorMs = performance.now();
    // Like the native reader: the first batch arrives on a later turn, after the
    // owner of the queue (the session) and its listeners are set up.
    this.timer = setTimeout(() => this.schedule(), 0);
    this.timer.unref();
  }

  setPolicy(_policy: NativePolicy): void {
    // The recording's answers are played as recorded; a policy cannot change them.
  }

  respond(groups: number[] | Float64Array, _code: 0 | 1): RespondResult {
    return {
      ok: [],
      failed: Array.from(groups, (group) => ({
        group,
        cookie: this.pendingGroups.get(group)?.cookie ?? null,
        code: 'EROFS',
        errno: 30,
        message: `group ${group}: this is a replay; answers come from the recording and nothing is written to a kernel`,
      })),
    };
  }

  drain(_code: 0 | 1, _groups?: number[] | Float64Array): number {
    return 0; // replay answers nothing; the recorded drain is in the recording
  }

  pending(): PendingGroup[] {
    return [...this.pendingGroups.values()].map((g) => ({ ...g, records: g.records.slice(0) }));
  }

  totals(): QueueTotals {
    return { ...this.lastTotals };
  }

  inject(): void {
    throw new Error('a replay cannot inject page requests: it plays the recorded ones');
  }

  injectProgress(): InjectProgress {
    return { injected: 0, failed: 0, done: true };
  }

  /** A recording is never injected into: no trigger times. */
  injectTimes(): Float64Array {
    return new Float64Array(0);
  }

  stopInject(): void {}

  simDetach(): number {
    throw new Error('a replay has no simulated domain to detach');
  }

  simRefuseAnswers(_count: number): void {
    throw new Error('a replay writes no answers to refuse');
  }

  kernelDetached(): number {
    return 0;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.src.close?.();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  // --- playback controls ---

  get done(): boolean {
    return this.ended;
  }

  /** Batches of the played queue delivered so far, and how many the recording holds. */
  batchProgress(): { index: number; count: number } {
    return {
      index: this.deliveredCount,
      count: this.index.batchesOf.get(this.recordedQueue) ?? 0,
    };
  }

  /** True while a seek is still delivering batches up to its target. */
  get seeking(): boolean {
    return this.seekTarget !== null && !this.ended;
  }

  /**
   * Recorded time now: the last delivered batch's time, plus (while playing)
   * the wall time since then × speed, up to the next batch's time. What a
   * timeline shows between batches.
   */
  livePositionNs(): number {
    if (this.paused || this.ended || this.seeking || !this.onBatch) return this.positionNs;
    const run = (performance.now() - this.anchorMs) * 1e6 * this.speed;
    const limit = this.next?.deliveredNs ?? this.index.lastNs ?? this.positionNs;
    return Math.max(this.positionNs, Math.min(this.positionNs + Math.max(0, run), limit));
  }

  position(): {
    ns: number;
    firstNs: number | null;
    lastNs: number | null;
    paused: boolean;
    speed: number;
  } {
    return {
      ns: this.positionNs,
      firstNs: this.index.firstNs,
      lastNs: this.index.lastNs,
      paused: this.paused,
      speed: this.speed,
    };
  }

  pause(): void {
    // Between batches the timeline stands where it is, not at the last batch.
    this.positionNs = this.livePositionNs();
    this.paused = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.anchorMs = performance.now();
    this.schedule();
  }

  setSpeed(speed: number): void {
    if (!(speed > 0)) throw new RangeError(`replay speed ${speed} must be > 0`);
    this.positionNs = this.livePositionNs(); // the time reached at the old speed
    this.speed = speed;
    this.anchorMs = performance.now();
    this.schedule();
  }

  /** Deliver the next batch now (paused or not). Returns false at the end. */
  step(): boolean {
    const b = this.peek();
    if (!b) return false;
    this.deliver(b);
    this.anchorMs = performance.now();
    return true;
  }

  /** Go to recorded time `ns` (CLOCK_MONOTONIC of the recording). */
  seek(ns: number): void {
    if (ns < this.positionNs) {
      this.resets++;
      this.emit({ type: 'reset' });
      this.restart();
    }
    this.seekTarget = ns;
    this.schedule();
  }

  // --- internals ---

  private restart(): void {
    this.reader = (function* (src: ByteSource) {
      for (const f of captureFrames(src)) yield f.frame;
    })(this.src);
    this.asm = new BatchAssembler();
    this.next = null;
    this.ended = false;
    this.endError = null;
    this.pendingGroups.clear();
    this.lastTotals = zeroQueueTotals();
    this.positionNs = this.index.firstNs ?? 0;
    this.deliveredCount = 0;
  }

  /** The next batch of our queue, read ahead; null at the end. */
  private peek(): RecordedBatch | null {
    while (!this.next && !this.ended && this.reader) {
      let r: IteratorResult<DecodedFrame>;
      try {
        r = this.reader.next();
      } catch (err) {
        if (!(err instanceof RecordingError)) throw err;
        this.finish(err);
        break;
      }
      if (r.done) {
        this.finish(null);
        break;
      }
      const f = r.value;
      const done = this.asm.add(f);
      if (done) {
        if (done.batch.queue === this.recordedQueue) this.next = done;
      } else if (f.kind !== 'read' && f.kind !== 'answer' && f.kind !== 'error') {
        this.onFrame?.(f);
      }
    }
    return this.next;
  }

  private finish(error: RecordingError | null): void {
    this.ended = true;
    this.endError = error;
    this.emit({ type: 'end', error });
  }

  private deliver(rb: RecordedBatch): void {
    this.next = null;
    const b = this.id === rb.batch.queue ? rb.batch : { ...rb.batch, queue: this.id };
    this.trackPending(b);
    this.lastTotals = { ...b.totals };
    this.positionNs = rb.deliveredNs;
    this.deliveredCount++;
    this.onBatch?.(b);
  }

  private trackPending(b: FaultBatch): void {
    const view = new DataView(b.records);
    for (let i = 0; i < b.read.group.length; i++) {
      const first = b.read.first[i]!;
      const pages = b.read.pages[i]!;
      const off = first * FAULT_RECORD_BYTES;
      const has = first !== RECORDS_LEFT_OUT && off + FAULT_RECORD_BYTES <= b.records.byteLength;
      const flags = has ? view.getUint32(off, true) : 0;
      this.pendingGroups.set(b.read.group[i]!, {
        group: b.read.group[i]!,
        cookie: b.read.cookie[i]!,
        devId: has ? view.getUint32(off + 4, true) : 0,
        pasid: has && flags & 1 ? view.getUint32(off + 8, true) : 0xffffffff,
        grpid: has ? view.getUint32(off + 12, true) : 0,
        readNs: b.read.readNs[i]!,
        records: has ? b.records.slice(off, off + pages * FAULT_RECORD_BYTES) : new ArrayBuffer(0),
      });
    }
    for (let i = 0; i < b.answered.group.length; i++)
      this.pendingGroups.delete(b.answered.group[i]!);
  }

  private emit(e: ReplayEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  /** Deliver what is due, then sleep until the next batch is. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.isClosed || !this.onBatch) return;
    let delivered = 0;
    for (;;) {
      const b = this.peek();
      if (!b) return;
      if (this.seekTarget !== null) {
        if (b.deliveredNs <= this.seekTarget) {
          this.deliver(b);
          if (++delivered >= CATCH_UP_CHUNK) break;
          continue;
        }
        this.positionNs = this.seekTarget;
        this.seekTarget = null;
        this.anchorMs = performance.now();
        this.emit({ type: 'position', ns: this.positionNs });
      }
      if (this.paused) return;
      const dueMs = this.anchorMs + (b.deliveredNs - this.positionNs) / 1e6 / this.speed;
      const now = performance.now();
      if (dueMs > now) {
        this.timer = setTimeout(() => this.schedule(), Math.min(dueMs - now, 1000));
        this.timer.unref();
        return;
      }
      const anchorShift = b.deliveredNs - this.positionNs;
      this.deliver(b);
      // Keep the anchor on the recorded timeline: lateness does not accumulate.
      this.anchorMs += anchorShift / 1e6 / this.speed;
      if (++delivered >= CATCH_UP_CHUNK) break;
    }
    this.timer = setTimeout(() => this.schedule(), 0);
    this.timer.unref();
  }
}
