// FaultSession: one fault source, its native reader, the automatic-answer
// policy and the exactly-once bookkeeping, for the CLI, the browser-mode
// server and Electron alike.
//
// Events (typed listener sets, no per-fault events):
//   'batch'  (b: DecodedBatch)    one per native flush, columnar (see decode-batch.ts)
//   'closed' (s: SessionSummary)  once, after the final drain and teardown
//
// Exactly-once: the native queue answers each group once (policy, respond,
// drain) and reports stale cookies instead of writing them twice. close()
// drains everything still pending with the chosen code (several rounds, so a
// group read during a drain is drained too), detaches the fault-reporting
// domain only if something is still pending, then tears the objects down.
import { openSource, type OpenSourceOptions } from '../sources/open-source';
import type { FaultSource } from '../sources/fault-source';
import type { InjectSpec } from '../../common/inject';
import type { PolicySpec } from '../../common/policy';
import type { IommufdObjects } from '../../common/iommufd-objects';
import { decodeFaultRecords, type FaultRecord } from '../../common/fault-record';
import {
  AnsweredBy,
  type FaultBatch,
  type InjectProgress,
  type QueueTotals,
  type RespondResult,
} from '../native/addon-types';
import { explain } from '../errors';
import { decodeBatch, type DecodedBatch } from './decode-batch';
import { toNativeInject, toNativePolicy } from './native-specs';
import { trackQueue } from './crash-drain';
import { rethrowOutsideNative } from '../native/callback-guard';

export type { DecodedBatch } from './decode-batch';

export interface FaultSessionOptions extends OpenSourceOptions {
  /** Initial policy; default: hold everything (answers come from the user or the drain). */
  policy?: PolicySpec;
}

/** A pending group, serialisable. */
export interface PendingGroupInfo {
  cookie: number;
  devId: number;
  /** null when the group has no PASID. */
  pasid: number | null;
  grpid: number;
  readNs: number;
  pages: FaultRecord[];
}

/** Which pending groups drain() answers; every given field must match. */
export interface DrainFilter {
  devId?: number;
  pasidMin?: number;
  pasidMax?: number;
  cookies?: number[];
}

export interface AnsweredByCounts {
  user: number;
  policy: number;
  drain: number;
  kernel: number;
}

export interface SessionSummary extends QueueTotals {
  /** Groups answered per answerer over the session. */
  by: AnsweredByCounts;
  /** Injection outcome, when inject() was used. */
  inject?: InjectProgress;
  /** Failures while tearing down (each already explained). */
  teardownErrors: string[];
}

type Listener<T> = (value: T) => void;

export class FaultSession {
  private readonly batchListeners = new Set<Listener<DecodedBatch>>();
  private readonly closedListeners = new Set<Listener<SessionSummary>>();
  private readonly waiters: (() => void)[] = [];
  private seq = 0;
  private lastTotals: QueueTotals;
  private readonly by: AnsweredByCounts = { user: 0, policy: 0, drain: 0, kernel: 0 };
  private injected = false;
  private closing: Promise<SessionSummary> | undefined;
  private readonly flushMs: number;
  private readonly untrack: () => void;

  constructor(
    readonly source: FaultSource,
    opts: { policy?: PolicySpec; flushIntervalMs?: number } = {},
  ) {
    this.flushMs = opts.flushIntervalMs ?? 10;
    this.lastTotals = source.queue.totals();
    this.setPolicy(opts.policy ?? { rules: [], fallback: { kind: 'hold' } });
    // A throw in a batch listener must reach the crash drain (see callback-guard.ts).
    source.queue.start(rethrowOutsideNative((raw: FaultBatch) => this.onBatch(raw)));
    this.untrack = trackQueue(source.queue);
  }

  /** Open a source and start reading. Errors are IommuscopeErrors (cause + fix). */
  static open(opts: FaultSessionOptions): FaultSession {
    const source = openSource(opts);
    try {
      return new FaultSession(source, {
        ...(opts.policy ? { policy: opts.policy } : {}),
        ...(opts.flushIntervalMs !== undefined ? { flushIntervalMs: opts.flushIntervalMs } : {}),
      });
    } catch (err) {
      source.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  on(event: 'batch', fn: Listener<DecodedBatch>): () => void;
  on(event: 'closed', fn: Listener<SessionSummary>): () => void;
  on(event: 'batch' | 'closed', fn: Listener<DecodedBatch> | Listener<SessionSummary>): () => void {
    const set = (event === 'batch' ? this.batchListeners : this.closedListeners) as Set<unknown>;
    set.add(fn);
    return () => set.delete(fn);
  }

  setPolicy(spec: PolicySpec): void {
    this.source.queue.setPolicy(toNativePolicy(spec));
  }

  /** Answer groups by cookie. Unknown or already answered cookies come back in `failed` (ESTALE). */
  respond(cookies: number[] | Uint32Array, code: 0 | 1): RespondResult {
    this.assertOpen('respond');
    return this.source.queue.respond(cookies, code);
  }

  /**
   * Answer pending groups (all, or those matching `filter`) with `code`;
   * returns how many. Filtered or not, the answers are the drain's
   * (AnsweredBy.Drain); cookies no longer pending are skipped.
   */
  drain(code: 0 | 1, filter?: DrainFilter): number {
    this.assertOpen('drain');
    const q = this.source.queue;
    if (!filter) return q.drain(code);
    const byFields =
      filter.devId !== undefined || filter.pasidMin !== undefined || filter.pasidMax !== undefined;
    if (!byFields) return filter.cookies ? q.drain(code, filter.cookies) : q.drain(code);
    const wanted = { ...filter, cookies: filter.cookies ? new Set(filter.cookies) : undefined };
    const cookies = this.pending()
      .filter((g) => matches(g, wanted))
      .map((g) => g.cookie);
    return cookies.length === 0 ? 0 : q.drain(code, cookies);
  }

  pending(): PendingGroupInfo[] {
    return this.source.queue.pending().map((g) => ({
      cookie: g.cookie,
      devId: g.devId,
      pasid: g.pasid === 0xffffffff ? null : g.pasid,
      grpid: g.grpid,
      readNs: g.readNs,
      pages: decodeFaultRecords(g.records),
    }));
  }

  /** Cookie and read time of every pending group, without decoding pages (cheap to compare). */
  pendingKeys(): { cookie: number; readNs: number }[] {
    return this.source.queue.pending().map((g) => ({ cookie: g.cookie, readNs: g.readNs }));
  }

  /** Start natively paced injection (sim, mock). Throws an IommuscopeError when the source cannot. */
  inject(spec: InjectSpec): void {
    this.assertOpen('inject');
    this.source.checkInject(spec);
    try {
      this.source.queue.inject(toNativeInject(spec));
    } catch (err) {
      throw explain(err, 'inject');
    }
    this.injected = true;
  }

  stopInject(): void {
    if (this.injected) this.source.queue.stopInject();
  }

  injectProgress(): InjectProgress | undefined {
    return this.injected ? this.source.queue.injectProgress() : undefined;
  }

  totals(): QueueTotals {
    if (this.source.queue.closed) return { ...this.lastTotals };
    return this.source.queue.totals();
  }

  objects(): IommufdObjects {
    return this.source.objects();
  }

  /** Detach the fault-reporting domain with groups pending: they are answered INVALID kernel-side. */
  detach(): number {
    this.assertOpen('detach');
    return this.source.detach();
  }

  /** Resolves after the next batch arrives, or after `timeoutMs`. */
  nextBatch(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  /**
   * Drain, detach, tear down; idempotent (later calls return the same summary).
   * drainCode: what pending groups are answered with (default 1 = INVALID).
   */
  close(opts: { drainCode?: 0 | 1 } = {}): Promise<SessionSummary> {
    this.closing ??= this.doClose(opts.drainCode ?? 1);
    return this.closing;
  }

  private async doClose(code: 0 | 1): Promise<SessionSummary> {
    const q = this.source.queue;
    const teardownErrors: string[] = [];
    const attempt = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        teardownErrors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    attempt('stop injection', () => this.stopInject());
    const inject = this.injected ? q.injectProgress() : undefined;
    // Drain until nothing is pending (a group read during a drain is drained next round).
    for (let round = 0; round < 5; round++) {
      attempt('drain', () => q.drain(code));
      await this.nextBatch(this.flushMs * 3 + 20);
      if (q.totals().pending === 0) break;
    }
    // Still pending (a device faulting during the drain): detach, so the
    // kernel (or simulator) answers them INVALID, counted as AnsweredBy.Kernel.
    if (q.totals().pending > 0) {
      attempt('detach', () => this.source.detach());
      await this.nextBatch(this.flushMs * 3 + 20);
    }
    // Every answer and record counted natively is delivered in a batch before teardown.
    const deadline = Date.now() + 1000;
    while (!this.allDelivered(q.totals()) && Date.now() < deadline) {
      await this.nextBatch(this.flushMs * 3 + 20);
    }
    this.lastTotals = q.totals();
    teardownErrors.push(...this.source.close());
    this.untrack();
    // A final flush made while stopping the reader runs as a queued callback: let it land.
    await new Promise((r) => setImmediate(r));
    const summary: SessionSummary = {
      ...this.lastTotals,
      by: { ...this.by },
      ...(inject ? { inject } : {}),
      teardownErrors,
    };
    for (const fn of this.closedListeners) fn(summary);
    return summary;
  }

  /** True when the last delivered batch's totals include every fault and answer in `t`. */
  private allDelivered(t: QueueTotals): boolean {
    const d = this.lastTotals;
    return d.faults === t.faults && d.answered === t.answered && d.errors === t.errors;
  }

  private onBatch(raw: FaultBatch): void {
    const batch = decodeBatch(raw, ++this.seq);
    this.lastTotals = batch.totals;
    const by = batch.answered.by;
    for (let i = 0; i < by.length; i++) {
      switch (by[i]) {
        case AnsweredBy.User:
          this.by.user++;
          break;
        case AnsweredBy.Policy:
          this.by.policy++;
          break;
        case AnsweredBy.Drain:
          this.by.drain++;
          break;
        case AnsweredBy.Kernel:
          this.by.kernel++;
          break;
      }
    }
    for (const fn of this.batchListeners) fn(batch);
    for (const w of this.waiters.splice(0)) w();
  }

  private assertOpen(what: string): void {
    if (this.closing) throw new Error(`FaultSession.${what}: the session is closed`);
  }
}

function matches(
  g: PendingGroupInfo,
  f: Omit<DrainFilter, 'cookies'> & { cookies: Set<number> | undefined },
): boolean {
  if (f.devId !== undefined && g.devId !== f.devId) return false;
  if (f.pasidMin !== undefined && (g.pasid === null || g.pasid < f.pasidMin)) return false;
  if (f.pasidMax !== undefined && (g.pasid === null || g.pasid > f.pasidMax)) return false;
  if (f.cookies !== undefined && !f.cookies.has(g.cookie)) return false;
  return true;
}
