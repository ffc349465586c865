// The dashboard's vEVENTQ source: one VeventSource at a time beside the
// fault session, its batches turned into Events-view rows and sent as
// 'vevent.frame' events at most every FRAME_MS (rows since the last frame,
// bounded; the totals are the native reader's exact counters). Its objects
// (vIOMMU, vDEVICE, vEVENTQ with live read/lost counts) go to the Topology
// view through onObjects, once a second while open.
import { RequestError } from '../../common/request-error';
import {
  MAX_VEVENT_ROWS_PER_FRAME,
  type VeventFrame,
  type VeventState,
  type VeventTotalsUi,
  type VeventUiRow,
} from '../../common/vevent-contract';
import type { IommufdObjects } from '../../common/iommufd-objects';
import { veventTypeName } from '../../common/vevent-decode';
import type { VeventInjectSpec } from '../../common/vevent-inject';
import type { NativeAddon, VeventBatch } from '../native/addon-types';
import { loadAddon } from '../native/load';
import { explain } from '../errors';
import { VeventSource } from '../sources/vevent-source';
import { VeventInjector } from '../vevent/vevent-injector';
import { VeventRowDecoder } from '../vevent/vevent-rows';

export const VEVENT_FRAME_MS = 100;
const OBJECTS_MS = 1000;

export interface VeventFeedOptions {
  send(frame: VeventFrame): void;
  onObjects(objects: IommufdObjects | null): void;
  addon?: NativeAddon;
  /** Per-event recording hook (the open recording, if any). */
  onBatch?(source: VeventSource, batch: VeventBatch): void;
}

const closedState: VeventState = {
  open: false,
  device: null,
  queue: null,
  typeName: null,
  depth: null,
  virtId: null,
  canTrigger: false,
  lastError: null,
};

export class VeventFeed {
  private source: VeventSource | undefined;
  private injector: VeventInjector | undefined;
  private decoder: VeventRowDecoder | undefined;
  /** The source whose batches are still taken (its last flush comes after close). */
  private reading: VeventSource | undefined;
  private pending: VeventUiRow[] = [];
  private skipped = 0;
  private n = 0;
  private startNs = 0;
  private frameTimer: NodeJS.Timeout | undefined;
  private objectsTimer: NodeJS.Timeout | undefined;
  private lastError: string | null = null;
  private lastTotals: VeventTotalsUi = emptyTotals();

  constructor(private readonly opts: VeventFeedOptions) {}

  state(): VeventState {
    const s = this.source;
    if (!s) return { ...closedState, lastError: this.lastError };
    return {
      open: true,
      device: s.kind === 'mock' ? 'mock' : (this.device ?? null),
      queue: s.ids.veventq,
      typeName: veventTypeName(s.eventType),
      depth: s.depth,
      virtId: s.virtId.toString(),
      canTrigger: s.canTrigger,
      lastError: this.lastError,
    };
  }
  private device: string | undefined;

  objects(): IommufdObjects | null {
    return this.source ? this.source.objects() : null;
  }

  open(p: { device?: string; depth: number; virtId: bigint }): VeventState {
    if (this.source)
      throw new RequestError(
        'EBUSY',
        'a vEVENTQ source is already open: close it (vevent.close) before opening another',
      );
    if (p.device === undefined && (p.virtId === 0n || p.virtId > 0xffffffffn))
      throw new RequestError(
        'EPARAMS',
        'the selftest mock takes virt id 1..0xffffffff (its vEVENT carries a u32 virt_id; 0 reports none)',
      );
    let addon = this.opts.addon;
    try {
      addon ??= loadAddon();
    } catch (err) {
      throw explain(err, 'addon');
    }
    let source: VeventSource;
    try {
      source = VeventSource.open(addon, {
        ...(p.device ? { device: p.device } : {}),
        depth: p.depth,
        virtId: p.virtId,
        flushIntervalMs: 20,
      });
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
    this.source = source;
    this.device = p.device;
    this.lastError = null;
    this.decoder = new VeventRowDecoder(source.eventType);
    this.reading = source;
    this.pending = [];
    this.skipped = 0;
    this.injectBase = { injected: 0, failed: 0 };
    this.startNs = Number(process.hrtime.bigint());
    source.queue.start((b) => this.onBatch(source, b));
    this.objectsTimer = setInterval(() => this.opts.onObjects(this.objects()), OBJECTS_MS);
    this.objectsTimer.unref?.();
    this.opts.onObjects(this.objects());
    this.flush();
    return this.state();
  }

  /** Selftest vEVENTs, paced on the main thread (the reader runs meanwhile). */
  trigger(spec: VeventInjectSpec): void {
    const s = this.source;
    if (!s)
      throw new RequestError(
        'ENOSESSION',
        'vevent.trigger: no vEVENTQ source is open (vevent.open)',
      );
    if (!s.canTrigger)
      throw new RequestError(
        'ENOTSUP',
        "vevent.trigger: only the selftest mock's vEVENTs can be triggered; a device's come from its hardware",
      );
    if (spec.prefill)
      throw new RequestError(
        'EPARAMS',
        'vevent.trigger: prefill needs a reader that has not started (watch only)',
      );
    if (this.injector && !this.injector.progress().done)
      throw new RequestError('EBUSY', 'vevent.trigger: the previous trigger run is still going');
    const base = this.injectedSoFar();
    this.injector = new VeventInjector(spec, () => s.trigger());
    this.injectBase = base;
    this.injector.start(() => this.schedule());
  }
  private injectBase = { injected: 0, failed: 0 };

  close(): VeventState {
    const s = this.source;
    if (!s) return this.state();
    this.injector?.stop();
    this.injectBase = this.injectedSoFar();
    this.injector = undefined;
    const problems = s.close();
    if (this.objectsTimer) clearInterval(this.objectsTimer);
    this.lastTotals = this.totals(s);
    this.source = undefined;
    if (problems.length) this.lastError = problems.join('; ');
    this.flush();
    this.opts.onObjects(null);
    return this.state();
  }

  /** Stop timers (core shutdown): closes the source. */
  dispose(): void {
    this.close();
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
  }

  /** Everything a freshly loaded renderer needs: state and totals (rows are not replayed). */
  fullFrame(): VeventFrame {
    return { state: this.state(), totals: this.currentTotals(), rows: [], rowsSkipped: 0 };
  }

  private onBatch(source: VeventSource, b: VeventBatch): void {
    if (this.reading !== source || !this.decoder) return;
    this.opts.onBatch?.(source, b);
    if (!this.source) this.lastTotals = this.totalsOfClosed(source);
    for (const r of this.decoder.rows(b)) {
      const t = (r.readNs - this.startNs) / 1e6;
      const row: VeventUiRow =
        r.kind === 'lost'
          ? { kind: 'lost', n: this.n++, t, after: r.after, lost: r.lost, marker: r.marker }
          : {
              kind: 'event',
              n: this.n++,
              sequence: r.sequence,
              t,
              virtId: r.virtId,
              decoded: r.decoded,
              hex: r.hex,
            };
      if (this.pending.length < MAX_VEVENT_ROWS_PER_FRAME) this.pending.push(row);
      else this.skipped++;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.frameTimer) return;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      this.flush();
    }, VEVENT_FRAME_MS);
    this.frameTimer.unref?.();
  }

  private flush(): void {
    const frame: VeventFrame = {
      state: this.state(),
      totals: this.currentTotals(),
      rows: this.pending,
      rowsSkipped: this.skipped,
    };
    this.pending = [];
    this.skipped = 0;
    this.opts.send(frame);
  }

  private totalsOfClosed(s: VeventSource): VeventTotalsUi {
    return {
      ...this.totals(s),
      injected: this.injectBase.injected,
      injectFailed: this.injectBase.failed,
    };
  }

  private injectedSoFar(): { injected: number; failed: number } {
    const p = this.injector?.progress();
    return {
      injected: this.injectBase.injected + (p?.injected ?? 0),
      failed: this.injectBase.failed + (p?.failed ?? 0),
    };
  }

  private currentTotals(): VeventTotalsUi {
    return this.source ? this.totals(this.source) : this.lastTotals;
  }

  private totals(s: VeventSource): VeventTotalsUi {
    const t = s.queue.totals();
    const i = this.injectedSoFar();
    return {
      read: t.events,
      lost: t.lost,
      lostMarkers: t.lostMarkers,
      errors: t.errors,
      overflow: t.overflow,
      injected: i.injected,
      injectFailed: i.failed,
    };
  }
}

function emptyTotals(): VeventTotalsUi {
  return { read: 0, lost: 0, lostMarkers: 0, errors: 0, overflow: 0, injected: 0, injectFailed: 0 };
}
