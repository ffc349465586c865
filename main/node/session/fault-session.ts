// FaultSession: one fault source, its native reader, the automatic-answer
// policy and the exactly-once bookkeeping, for the CLI, the browser-mode
// server and Electron alike.
//
// Events (typed listener sets, no per-fault events):
//   'batch'  (b: DecodedBatch)    one per native flush, columnar (see decode-batch.ts)
//   'closed' (s: SessionSummary)  once, after the final drain and teardown
// subscribeBatches: the raw FaultBatch stream (recorder, metrics), each batch
// after the session's own decode, so the final drain's batch is included.
//
// Exactly-once: the native queue answers each group once (policy, respond,
// drain), by group sequence number, and refuses an answer for a group that is
// no longer pending (ESTALE) instead of writing it to whatever group holds
// the cookie now. close() drains until nothing is pending (a group read
// during a drain is drained next round), detaches the fault-reporting domain
// only if a device keeps faulting past that, then tears the objects down.
import { openSource, type OpenSourceOptions } from '../sources/open-source';
import type { FaultSource } from '../sources/fault-source';
import { INJECT_DEFAULT_OUTSTANDING, type InjectSpec } from '../../common/inject';
import { policyProblemFor, type PolicySpec } from '../../common/policy';
import { GrammarError } from '../../common/grammar-error';
import type { IommufdObjects } from '../../common/iommufd-objects';
import { decodeFaultRecords, type FaultRecord } from '../../common/fault-record';
import {
  type FaultBatch,
  type GroupSeq,
  type InjectProgress,
  type QueueTotals,
  type RespondResult,
} from '../native/addon-types';
import { explain, IommuscopeError } from '../errors';
import { decodeBatch, type DecodedBatch } from './decode-batch';
import { toNativeInject, toNativePolicy } from './native-specs';
import { trackQueue } from './crash-drain';
import { tapQueue, type BatchSubscribe } from '../recording/batch-tap';
import { and, type Expr } from '../../common/filter/ast';
import { compileFilter, groupListFacts } from '../../common/filter/evaluate';
import { rethrowOutsideNative } from '../native/callback-guard';

export type { DecodedBatch } from './decode-batch';

export interface FaultSessionOptions extends OpenSourceOptions {
  /** Initial policy; default: hold everything (answers come from the user or the drain). */
  policy?: PolicySpec;
}

/** A pending group, serialisable. */
export interface PendingGroupInfo {
  group: GroupSeq;
  cookie: number;
  devId: number;
  /** null when the group has no PASID. */
  pasid: number | null;
  grpid: number;
  readNs: number;
  pages: FaultRecord[];
}

/**
 * Which pending groups drain() answers; every given part must hold. `match`
 * is a filter-language expression (parseFilter); devId and pasidMin/Max are
 * the older form, turned into the same expression.
 */
export interface DrainFilter {
  match?: Expr;
  devId?: number;
  pasidMin?: number;
  pasidMax?: number;
  /** Only these groups (those of them still pending). */
  groups?: readonly GroupSeq[];
}

/** How long close() keeps draining a queue that keeps reading new groups before it detaches. */
const CLOSE_DRAIN_MS = 2000;

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
  private injected = false;
  private closing: Promise<SessionSummary> | undefined;
  private readonly flushMs: number;
  private readonly untrack: () => void;
  /** Every raw FaultBatch of this session, after the session handled it; returns unsubscribe. */
  readonly subscribeBatches: BatchSubscribe;

  /** sim: the PRI credit the queue was opened with (undefined: the default). */
  private readonly outstandingLimit: number | undefined;

  constructor(
    readonly source: FaultSource,
    opts: { policy?: PolicySpec; flushIntervalMs?: number; outstandingLimit?: number } = {},
  ) {
    this.flushMs = opts.flushIntervalMs ?? 10;
    this.outstandingLimit = opts.outstandingLimit;
    this.lastTotals = source.queue.totals();
    this.setPolicy(opts.policy ?? { rules: [], fallback: { kind: 'hold' } });
    const tap = tapQueue(source.queue, (err) =>
      process.stderr.write(`iommuscope: a batch subscriber failed: ${String(err)}\n`),
    );
    this.subscribeBatches = tap.subscribe;
    // A throw in a batch listener must reach the crash drain (see callback-guard.ts).
    tap.queue.start(rethrowOutsideNative((raw: FaultBatch) => this.onBatch(raw)));
    this.untrack = trackQueue(source.queue);
  }

  /** Open a source and start reading. Errors are IommuscopeErrors (cause + fix). */
  static open(opts: FaultSessionOptions): FaultSession {
    const source = openSource(opts);
    try {
      return new FaultSession(source, {
        ...(opts.policy ? { policy: opts.policy } : {}),
        ...(opts.flushIntervalMs !== undefined ? { flushIntervalMs: opts.flushIntervalMs } : {}),
        ...(opts.outstandingLimit !== undefined ? { outstandingLimit: opts.outstandingLimit } : {}),
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
    const problem = policyProblemFor(spec, this.source.kind);
    if (problem) throw new GrammarError('policy', problem);
    this.source.queue.setPolicy(toNativePolicy(spec));
  }

  /**
   * Answer groups by sequence number. A group that is not pending (answered
   * by anyone, or never read from this queue) comes back in `failed` with
   * ESTALE, naming who answered it and when; nothing is written for it.
   */
  respond(groups: readonly GroupSeq[] | Float64Array, code: 0 | 1): RespondResult {
    this.assertOpen('respond');
    return this.source.queue.respond(
      groups instanceof Float64Array ? groups : Float64Array.from(groups),
      code,
    );
  }

  /**
   * Answer pending groups (all, or exactly those matching `filter`) with
   * `code`; returns how many. Filtered or not, the answers are the drain's
   * (AnsweredBy.Drain); groups no longer pending are skipped.
   */
  drain(code: 0 | 1, filter?: DrainFilter): number {
    this.assertOpen('drain');
    const q = this.source.queue;
    if (!filter) return q.drain(code);
    const expr = drainFilterExpr(filter);
    if (expr.kind === 'true') {
      return filter.groups ? this.drainGroups(code, filter.groups) : q.drain(code);
    }
    const only = filter.groups ? new Set(filter.groups) : undefined;
    const pending = this.pending().filter((g) => !only || only.has(g.group));
    const test = compileFilter(expr, groupListFacts(pending.map((g) => ({ records: g.pages }))));
    return this.drainGroups(
      code,
      pending.filter((_, i) => test(i)).map((g) => g.group),
    );
  }

  private drainGroups(code: 0 | 1, groups: readonly GroupSeq[]): number {
    return groups.length === 0 ? 0 : this.source.queue.drain(code, Float64Array.from(groups));
  }

  pending(): PendingGroupInfo[] {
    return this.source.queue.pending().map((g) => ({
      group: g.group,
      cookie: g.cookie,
      devId: g.devId,
      pasid: g.pasid === 0xffffffff ? null : g.pasid,
      grpid: g.grpid,
      readNs: g.readNs,
      pages: decodeFaultRecords(g.records),
    }));
  }

  /** Start natively paced injection (sim, mock). Throws an IommuscopeError when the source cannot. */
  inject(spec: InjectSpec): void {
    this.assertOpen('inject');
    // The credit belongs to the simulated device: fixed when the queue opened, not per injection.
    if (spec.outstanding !== undefined && spec.outstanding !== this.outstandingLimit) {
      throw new IommuscopeError(
        'inject',
        'EINVAL',
        `outstanding=${spec.outstanding} is the simulated device's PRI credit, fixed when the ` +
          `session opened (this one has ${this.outstandingLimit ?? `the default ${INJECT_DEFAULT_OUTSTANDING}`})`,
        'open the session with it (watch or serve --source sim --inject ...,outstanding=N), or leave it out here',
      );
    }
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
   * Resolves true once the batches delivered so far carry every read, answer
   * and error the native queue has counted; false after `timeoutMs`. Batches
   * come at least a flush interval apart, and further apart while JS is slow
   * (FLUSH_PACING in addon-types.ts).
   */
  async untilDelivered(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.allDelivered(this.source.queue.totals())) {
      if (this.source.queue.closed || Date.now() >= deadline) return false;
      await this.nextBatch(this.flushMs * 3 + 20);
    }
    return true;
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
    const attempt = (what: string, fn: () => void): boolean => {
      try {
        fn();
        return true;
      } catch (err) {
        teardownErrors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
    };
    attempt('stop injection', () => this.stopInject());
    const inject = this.injected ? q.injectProgress() : undefined;
    // Drain until nothing is pending (a group read during a drain is drained
    // next round); only a device that keeps faulting for CLOSE_DRAIN_MS gets
    // past this loop with groups pending.
    const drainUntil = Date.now() + CLOSE_DRAIN_MS;
    let failedDrains = 0;
    while (q.totals().pending > 0 && Date.now() < drainUntil && failedDrains < 3) {
      if (!attempt('drain', () => q.drain(code))) failedDrains++;
      await this.nextBatch(this.flushMs * 3 + 20);
    }
    // Still pending (a device faulting during the drain): detach, so the
    // kernel (or simulator) answers them INVALID, counted as AnsweredBy.Kernel.
    if (q.totals().pending > 0) {
      attempt('detach', () => this.source.detach());
      await this.nextBatch(this.flushMs * 3 + 20);
    }
    // Every answer and record counted natively is delivered in a batch before teardown.
    await this.untilDelivered(1000);
    this.lastTotals = q.totals();
    teardownErrors.push(...this.source.close());
    this.untrack();
    // A final flush made while stopping the reader runs as a queued callback: let it land.
    await new Promise((r) => setImmediate(r));
    const summary: SessionSummary = {
      ...this.lastTotals,
      by: answeredByCounts(this.lastTotals),
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
    for (const fn of this.batchListeners) fn(batch);
    for (const w of this.waiters.splice(0)) w();
  }

  private assertOpen(what: string): void {
    if (this.closing) throw new Error(`FaultSession.${what}: the session is closed`);
  }
}

/** Who answered how many groups, from the queue's exact counters. */
export function answeredByCounts(t: QueueTotals): AnsweredByCounts {
  return { user: t.byUser, policy: t.byPolicy, drain: t.byDrain, kernel: t.byKernel };
}

function drainFilterExpr(f: DrainFilter): Expr {
  const terms: Expr[] = f.match ? [f.match] : [];
  if (f.devId !== undefined) terms.push({ kind: 'cmp', field: 'dev', op: '==', value: f.devId });
  if (f.pasidMin !== undefined || f.pasidMax !== undefined) {
    const items = [{ lo: f.pasidMin ?? 0, hi: f.pasidMax ?? 0xffffffff }];
    terms.push({ kind: 'in', field: 'pasid', items });
  }
  return and(...terms);
}
