// The agent's fault session: a source's queue, tapped so metrics (and a
// recorder) see every batch, with the policy set and the same exit contract
// as FaultSession: on close, drain until nothing is pending, then tear down.
// After the merge this may become a FaultSession with its batch stream; it
// only needs subscribe(), totals() and close() from it.
import type { InjectSpec } from '../../common/inject';
import type { PolicySpec } from '../../common/policy';
import type { QueueTotals } from '../native/addon-types';
import { tapQueue, type BatchSubscribe } from '../recording/batch-tap';
import { openSource, type OpenSourceOptions } from '../sources/open-source';
import type { FaultSource } from '../sources/fault-source';
import { toNativeInject, toNativePolicy } from '../session/native-specs';

const DRAIN_ROUNDS = 20;

export class AgentSession {
  readonly subscribe: BatchSubscribe;
  private readonly tapped: ReturnType<typeof tapQueue>;
  private closing: Promise<QueueTotals> | null = null;

  private constructor(
    readonly source: FaultSource,
    policy: PolicySpec,
    private readonly flushMs: number,
    onListenerError: (err: unknown) => void,
  ) {
    this.tapped = tapQueue(source.queue, onListenerError);
    this.subscribe = this.tapped.subscribe;
    if (source.kind !== 'replay') this.tapped.queue.setPolicy(toNativePolicy(policy));
  }

  static open(
    opts: OpenSourceOptions & { policy: PolicySpec },
    onListenerError: (err: unknown) => void,
  ): AgentSession {
    return new AgentSession(
      openSource(opts),
      opts.policy,
      opts.flushIntervalMs ?? 10,
      onListenerError,
    );
  }

  get queueId(): number {
    return this.tapped.queue.id;
  }

  /** Start reading (subscribe first, so nothing is missed). */
  start(): void {
    this.tapped.queue.start(() => {});
  }

  inject(spec: InjectSpec): void {
    this.source.checkInject(spec);
    this.tapped.queue.inject(toNativeInject(spec));
  }

  totals(): QueueTotals {
    return this.tapped.queue.totals();
  }

  /** Drain (several rounds: a group read during a drain is drained too), then tear down. */
  close(drainCode: 0 | 1): Promise<QueueTotals> {
    this.closing ??= (async () => {
      const q = this.tapped.queue;
      if (this.source.canInject) q.stopInject();
      const live = this.source.kind !== 'replay'; // a replay's answers are recorded ones
      for (let round = 0; live && round < DRAIN_ROUNDS && q.totals().pending > 0; round++) {
        q.drain(drainCode);
        await new Promise((r) => setTimeout(r, this.flushMs * 2));
      }
      if (live && q.totals().pending > 0) this.source.detach();
      await new Promise((r) => setTimeout(r, this.flushMs * 2)); // the last batch reaches the subscribers
      const final = q.totals();
      this.source.close();
      return final;
    })();
    return this.closing;
  }
}
