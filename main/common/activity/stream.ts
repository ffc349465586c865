// What the activity core streams to its consumers (CLI NDJSON, dashboard):
// the decoded kernel events with wall-clock times and the device resolved to
// the Host view's group and driver, source states, and per-second rates.
import type { DebugfsActivity, DebugfsUnit, DevicePasids } from '../debugfs/events';
import type { DmaFault, IommuMessage, KmsgGap, SuppressedMessages, UnparsedLine } from './types';

export interface ResolvedDevice {
  group: number | null;
  driver: string | null;
}

export type TimedFault = DmaFault & ResolvedDevice & { /** Wall-clock ms. */ time: number };

export interface TopologyActivity {
  type: 'topology';
  change: 'attach' | 'group-add' | 'group-remove';
  device: string;
  group: number | null;
  time: number;
}

/** iommu:io_page_fault: a fault a driver reported through report_iommu_fault(). */
export interface TraceFault {
  type: 'trace-fault';
  device: string;
  driver: string;
  iova: string;
  flags: number;
  time: number;
}

export interface SourceState {
  type: 'source';
  source: 'kmsg' | 'tracepoints' | 'interrupts' | 'debugfs' | 'helper';
  ok: boolean;
  detail: string;
  /** The capability that would open it, e.g. 'cap_syslog'. */
  needCap: string | null;
  /** The command that grants it. */
  fix: string | null;
}

export type ActivityEvent =
  | TimedFault
  | (SuppressedMessages & { time: number })
  | (IommuMessage & { time: number })
  | UnparsedLine
  | KmsgGap
  | TopologyActivity
  | TraceFault
  | SourceState
  | DebugfsActivity;

// --- rates: one event per interval -------------------------------------------
// map/unmap tracepoints carry no unit or device (iommu_map() knows only the
// domain): they are host-wide, and also shown on the only unit of a host with one.

export interface UnitRates {
  unit: string;
  invalidations: number;
  invalidationsByKind: Record<string, number>;
  iotlbFlushes: number;
  pageRequests: number;
  faults: number;
  /** Per vector kind ('fault', 'page-request', ...), interrupts/s. */
  interrupts: Record<string, number>;
  /** Set on the only unit of the host (map/unmap tracepoints name no unit). */
  maps?: number;
  unmaps?: number;
}

export interface DeviceRates {
  device: string;
  group: number | null;
  driver: string | null;
  faults: number;
  pageRequests: number;
  iotlbFlushes: number;
  attaches: number;
  /** Totals since the start, for the Host view. */
  faultsTotal: number;
  lastFaultTime: number | null;
}

export interface RatesEvent {
  type: 'rates';
  /** Wall-clock ms at the end of the interval. */
  time: number;
  intervalMs: number;
  map: { perSecond: number; bytesPerSecond: number; total: number };
  unmap: { perSecond: number; bytesPerSecond: number; total: number };
  units: UnitRates[];
  devices: DeviceRates[];
  /** Events the kernel or the pipe dropped since the start. */
  lost: { trace: number; kmsg: number };
}

/** What the dashboard receives: events and the newest rates, coalesced (a few per second). */
export interface ActivityBatch {
  events: ActivityEvent[];
  rates: RatesEvent | null;
  /** Events left out of this batch because it was full (bounded renderer work). */
  dropped: number;
}

/** activity.snapshot: what a freshly loaded renderer needs. */
export interface ActivitySnapshot {
  enabled: boolean;
  sources: SourceState[];
  events: ActivityEvent[];
  rates: RatesEvent[];
  /** The newest debugfs state per unit and device (absent from older cores). */
  debugfs?: { units: DebugfsUnit[]; devices: DevicePasids[] };
}
