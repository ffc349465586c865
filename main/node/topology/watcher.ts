// Live topology: rescans on an interval (I/O off the event loop) and emits
// the differences. A uevent netlink socket would wake us sooner, but the
// interval diff also catches what uevents do not announce (a group's type
// changed through sysfs, a capability enabled by a driver), costs a few ms
// per scan, and needs no privileges.
import type { HostTopology, TopologyUpdate } from '../../common/host-topology';
import { diffTopology } from './diff';
import { scanTopologyAsync, type ScanOptions } from './scan';

export interface WatchOptions extends ScanOptions {
  /** Milliseconds between scans; default 1000, minimum 20. */
  intervalMs?: number;
}

export type UpdateListener = (update: TopologyUpdate) => void;
export type ErrorListener = (err: Error) => void;

export class TopologyWatcher {
  private timer: NodeJS.Timeout | undefined;
  private current: HostTopology | undefined;
  private seq = 0;
  private running = false;
  private readonly intervalMs: number;
  private readonly updateListeners = new Set<UpdateListener>();
  private readonly errorListeners = new Set<ErrorListener>();

  constructor(private readonly opts: WatchOptions = {}) {
    const ms = opts.intervalMs ?? 1000;
    if (!Number.isFinite(ms) || ms < 20) {
      throw new RangeError(`topology watch interval ${ms} ms: use at least 20 ms`);
    }
    this.intervalMs = ms;
  }

  /** The latest snapshot, once the first scan finished. */
  get topology(): HostTopology | undefined {
    return this.current;
  }

  onUpdate(fn: UpdateListener): () => void {
    this.updateListeners.add(fn);
    return () => this.updateListeners.delete(fn);
  }

  onError(fn: ErrorListener): () => void {
    this.errorListeners.add(fn);
    return () => this.errorListeners.delete(fn);
  }

  /** Takes the first snapshot (resolved with it), then keeps scanning. */
  async start(): Promise<HostTopology> {
    if (this.running) throw new Error('topology watcher already started');
    this.running = true;
    this.current = await scanTopologyAsync(this.opts);
    this.schedule();
    return this.current;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Rescan now; resolves with the update, or undefined when nothing changed. */
  async poll(): Promise<TopologyUpdate | undefined> {
    const next = await scanTopologyAsync(this.opts);
    const prev = this.current;
    this.current = next;
    if (!prev) return undefined;
    const changes = diffTopology(prev, next);
    if (changes.length === 0) return undefined;
    const update: TopologyUpdate = { seq: ++this.seq, changes, topology: next };
    for (const fn of this.updateListeners) fn(update);
    return update;
  }

  // setTimeout after each scan (not setInterval): scans never overlap.
  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch((err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const fn of this.errorListeners) fn(e);
        })
        .finally(() => this.schedule());
    }, this.intervalMs);
  }
}
