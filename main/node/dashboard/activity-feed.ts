// The activity view's feed for the dashboard: an ActivityCore (live through
// iommuscope-capture, or replaying a recorded helper stream for tests and
// demos), coalesced into at most four batches a second with a bounded number
// of events each, plus the snapshot a reloaded renderer asks for.
import { readFileSync } from 'node:fs';
import type {
  ActivityBatch,
  ActivityEvent,
  ActivitySnapshot,
  RatesEvent,
} from '../../common/activity/stream';
import { ActivityCore } from '../activity/activity-core';
import { TopologyResolver } from '../activity/topology-resolver';

export type ActivityMode = { kind: 'live' } | { kind: 'replay'; file: string };

const BATCH_MS = 250;
const MAX_BATCH_EVENTS = 200;
const SNAPSHOT_EVENTS = 1000;
const SNAPSHOT_RATES = 120;

export class ActivityFeed {
  private readonly core: ActivityCore;
  private readonly topo: TopologyResolver;
  private pending: ActivityEvent[] = [];
  private rates: RatesEvent | null = null;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(b: ActivityBatch) => void>();

  constructor(
    private readonly mode: ActivityMode,
    sysfsRoot = '/sys',
  ) {
    this.topo = new TopologyResolver(sysfsRoot);
    this.core = new ActivityCore({
      replay: mode.kind === 'replay',
      resolve: this.topo.resolve,
      units: this.topo.units,
      onTopologyChange: () => this.topo.changed(),
    });
    this.core.unitOfDevice = this.topo.unitOf;
    this.core.on((e) => this.onEvent(e));
  }

  onBatch(fn: (b: ActivityBatch) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async start(): Promise<void> {
    if (this.mode.kind === 'replay') {
      const bytes = readFileSync(this.mode.file);
      await this.core.start();
      for (let off = 0; off < bytes.length; off += 65536)
        this.core.onData(bytes.subarray(off, off + 65536));
      return;
    }
    await this.core.start();
  }

  private onEvent(e: ActivityEvent | RatesEvent): void {
    if (e.type === 'rates') this.rates = e;
    else if (this.pending.length < MAX_BATCH_EVENTS) this.pending.push(e);
    else this.dropped++;
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.timer = null;
    const batch: ActivityBatch = { events: this.pending, rates: this.rates, dropped: this.dropped };
    this.pending = [];
    this.rates = null;
    this.dropped = 0;
    for (const l of this.listeners) l(batch);
  }

  snapshot(): ActivitySnapshot {
    return {
      enabled: true,
      sources: [...this.core.sources.values()],
      events: this.core.events.filter((e) => e.type !== 'source').slice(-SNAPSHOT_EVENTS),
      rates: this.core.rateHistory.slice(-SNAPSHOT_RATES),
      debugfs: {
        units: [...this.core.debugfs.units.values()],
        devices: [...this.core.debugfs.devices.values()],
      },
    };
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.topo.stop();
    await this.core.stop();
  }
}
