// What the activity core streams to its consumers (CLI NDJSON, dashboard):
// the decoded kernel events with wall-clock times and the device resolved to
// the Host view's group and driver, source states, and per-second rates.
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
  | SourceState;
