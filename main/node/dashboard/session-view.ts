// What one fault session leaves behind for the dashboard: its fault log,
// rate windows and archives, latency histogram and recent errors, fed by the
// session's decoded batches and kept after the session closes.
import { FaultFlag } from '../../common/fault-record';
import { AnsweredBy, type QueueTotals } from '../native/addon-types';
import type { DecodedBatch } from '../session/fault-session';
import { FaultLog } from './fault-log';
import { LatencyHistogram } from './latency-histogram';
import { RateArchive } from './rate-archive';
import { RateWindow } from './rate-window';
import { RecentErrors } from './recent-errors';
import type { RespondView } from './respond';

/** Lines per rate chart; the rest are summed into 'other'. */
export const MAX_RATE_SERIES = 8;

const monoNs = (): number => Number(process.hrtime.bigint());
const none = new Uint32Array(0);

/**
 * The clock a view's times are measured on: the host's for live sessions; a
 * replay's recorded time (from its first batch), so rows, charts and frames
 * after a seek are exactly those of a replay played straight to that point.
 */
export interface ViewClock {
  startNs: number;
  nowNs(): number;
}

/** What one session leaves behind for the dashboard (kept after it closes). */
export class SessionView implements RespondView {
  readonly log: FaultLog;
  readonly byDevice = new RateWindow();
  readonly byPasid = new RateWindow();
  /** Longer, coarser history (rates.history): kept here so a reloaded renderer still has it. */
  readonly archiveDevice = new RateArchive();
  readonly archivePasid = new RateArchive();
  readonly latency = new LatencyHistogram();
  readonly startNs: number;
  private readonly nowNs: () => number;
  readonly startedAt = Date.now();
  totals: QueueTotals | undefined;
  readonly errors = new RecentErrors();
  /** (ms, faults) samples of the last second or so, for faultRate. */
  private samples: [number, number][] = [];

  constructor(opts: { maxGroups?: number; maxRaw?: number; clock?: ViewClock | undefined }) {
    this.startNs = opts.clock?.startNs ?? monoNs();
    this.nowNs = opts.clock?.nowNs ?? monoNs;
    this.log = new FaultLog({
      startNs: this.startNs,
      ...(opts.maxGroups !== undefined ? { maxGroups: opts.maxGroups } : {}),
      ...(opts.maxRaw !== undefined ? { maxRawRecords: opts.maxRaw } : {}),
    });
  }

  nowMs(): number {
    return (this.nowNs() - this.startNs) / 1e6;
  }

  ingest(b: DecodedBatch): void {
    this.log.ingest(b);
    this.totals = b.totals;
    const r = b.read;
    const tMs = r.count > 0 ? (r.readNs[r.count - 1]! - this.startNs) / 1e6 : this.nowMs();
    // Aggregate per batch first: one Map update per key, not per fault.
    const perDev = new Map<number, number>();
    const perPasid = new Map<number, number>();
    const { devId, flags, pasid } = b.count > 0 ? b : { devId: none, flags: none, pasid: none };
    for (let i = 0; i < b.count; i++) {
      const dev = devId[i]!;
      perDev.set(dev, (perDev.get(dev) ?? 0) + 1);
      if (flags[i]! & FaultFlag.PasidValid) {
        const k = dev * 0x100000 + (pasid[i]! & 0xfffff);
        perPasid.set(k, (perPasid.get(k) ?? 0) + 1);
      }
    }
    for (const [dev, n] of perDev) {
      this.byDevice.add(`dev:${dev}`, `dev ${dev}`, tMs, n);
      this.archiveDevice.add(`dev:${dev}`, `dev ${dev}`, tMs, n);
    }
    for (const [k, n] of perPasid) {
      const dev = Math.floor(k / 0x100000);
      const pasid = k % 0x100000;
      const key = `pasid:${dev}:${pasid}`;
      const label = `dev ${dev} · PASID ${pasid}`;
      this.byPasid.add(key, label, tMs, n);
      this.archivePasid.add(key, label, tMs, n);
    }
    const a = b.answered;
    for (let i = 0; i < a.count; i++) {
      if (a.by[i] === AnsweredBy.Policy) this.latency.add(a.latencyNs[i]! / 1e3);
    }
    for (const e of b.errors) {
      this.errors.add({
        at: this.nowMs(),
        group: e.group === null ? null : String(e.group),
        cookie: e.cookie,
        code: e.code,
        message: e.message,
      });
    }
  }

  faultRate(nowMs: number): number {
    const faults = this.totals?.faults ?? 0;
    this.samples.push([nowMs, faults]);
    while (this.samples.length > 2 && this.samples[1]![0] <= nowMs - 1000) this.samples.shift();
    const [t0, f0] = this.samples[0]!;
    const dt = nowMs - t0;
    return dt > 0 ? Math.round(((faults - f0) * 1000) / dt) : 0;
  }
}
