// Records a session: subscribes to its FaultBatch stream and writes every
// batch as frames (batch-frames.ts), flushing after each batch that carries
// answers and at least once a second. Set-up, policy changes, topology and
// host events are written through the methods below by whoever owns them.
// A write failure (disk full) stops the recording and is reported through
// onError; it never throws into the session's batch path.
import type { HostTopology, TopologyUpdate } from '../../common/host-topology';
import type { RecordingStatus } from '../../common/recording-contract';
import type { FaultBatch } from '../native/addon-types';
import type { BatchSubscribe } from './batch-tap';
import { encodeBatchFast } from './batch-encoder';
import { CaptureWriter, type CaptureWriterOptions } from './capture-writer';
import { monoNowNs } from './clock';
import type { Frame, HostActivityFrame, SessionFrame, VEventFrame } from './frames';

export interface RecorderOptions extends CaptureWriterOptions {
  path: string;
  /** The batch stream to record (tapQueue(...).subscribe, or the session's). */
  subscribe?: BatchSubscribe;
  /** Called once if the recording stops on an error. */
  onError?: (err: Error) => void;
}

const nowNs = (): number => Number(monoNowNs());

/** A frame's fields without its kind; the time defaults to now. */
type Fields<F> = Omit<F, 'monoNs' | 'kind'> & { monoNs?: number };

export class Recorder {
  private readonly writer: CaptureWriter;
  private readonly unsubscribe: () => void;
  private readonly readTimes = new Map<number, number>();
  private counts = { pageRequests: 0, groups: 0, answers: 0 };
  private error: Error | null = null;

  private constructor(private readonly opts: RecorderOptions) {
    this.writer = CaptureWriter.create(opts.path, {
      ...opts,
      onFlushError: (err) =>
        this.guard(() => {
          throw err;
        }),
    });
    this.unsubscribe = opts.subscribe ? opts.subscribe((b) => this.batch(b)) : () => {};
  }

  /** Create the file (header written and on disk) and start recording. */
  static start(opts: RecorderOptions): Recorder {
    return new Recorder(opts);
  }

  get recording(): boolean {
    return !this.writer.closed;
  }

  /**
   * Record one batch (the subscription calls this; call it yourself without
   * one). `deliveredNs` defaults to now (CLOCK_MONOTONIC).
   */
  batch(b: FaultBatch, deliveredNs = nowNs()): void {
    if (!this.recording) return;
    this.guard(() => {
      const { body, end } = encodeBatchFast(b, deliveredNs, this.readTimes, this.writer.timestamps);
      this.writer.appendEncoded(body, b.read.group.length + b.answered.group.length);
      for (const e of b.errors)
        this.writer.append({ kind: 'error', monoNs: deliveredNs, queue: b.queue, ...e });
      this.writer.appendEncoded(end, 1);
      let pages = 0;
      for (let i = 0; i < b.read.pages.length; i++) pages += b.read.pages[i]!;
      this.counts.pageRequests += pages;
      this.counts.groups += b.read.group.length;
      this.counts.answers += b.answered.group.length;
      if (b.answered.group.length > 0) this.writer.flush();
    });
  }

  session(info: Fields<SessionFrame>): void {
    this.frame({ ...info, kind: 'session' });
  }

  policy(queue: number, policy: unknown, by?: string): void {
    this.frame({ kind: 'policy', queue, policy, ...(by ? { by } : {}) });
  }

  topology(topology: HostTopology): void {
    this.frame({ kind: 'topology', topology });
  }

  topologyChange(update: TopologyUpdate): void {
    this.frame({ kind: 'topology-change', seq: update.seq, changes: update.changes });
  }

  vevent(e: Fields<VEventFrame>): void {
    this.frame({ ...e, kind: 'vevent' });
  }

  /** Many vEVENTs (one reader batch) with one flush, instead of one per frame. */
  vevents(events: Fields<VEventFrame>[]): void {
    if (!this.recording || events.length === 0) return;
    this.guard(() => {
      for (const e of events)
        this.writer.append({ monoNs: nowNs(), ...e, kind: 'vevent' } as VEventFrame);
      this.writer.flush();
    });
  }

  hostActivity(e: Fields<HostActivityFrame>): void {
    this.frame({ ...e, kind: 'host-activity' });
  }

  note(text: string): void {
    this.frame({ kind: 'note', text });
  }

  /** Stop: unsubscribe, write the End frame and the EOF marker. Idempotent. */
  stop(reason = 'stopped'): RecordingStatus {
    this.unsubscribe();
    if (this.recording) this.guard(() => this.writer.close(reason));
    return this.status();
  }

  status(): RecordingStatus {
    const s = this.writer.stats;
    return {
      path: this.opts.path,
      recording: this.recording,
      ...this.counts,
      frames: s.frames,
      rawBytes: s.rawBytes,
      fileBytes: s.fileBytes,
      bytesPerPageRequest: this.counts.pageRequests ? s.fileBytes / this.counts.pageRequests : null,
      error: this.error ? this.error.message : null,
    };
  }

  private frame(f: { kind: Frame['kind']; monoNs?: number; [field: string]: unknown }): void {
    if (!this.recording) return;
    const withTime = { monoNs: nowNs(), ...f } as Frame;
    this.guard(() => {
      this.writer.append(withTime);
      this.writer.flush(); // rare frames: on disk at once
    });
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.error = new Error(`recording ${this.opts.path} stopped: ${e.message}`, { cause: e });
      this.unsubscribe();
      try {
        this.writer.abort();
      } catch {
        // closing a broken file can fail too; the error above says why
      }
      this.opts.onError?.(this.error);
    }
  }
}
