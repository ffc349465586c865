// The dashboard's vEVENTQ requests and event, spread into `requests` and
// `events` in contract.ts. A vEVENTQ source runs beside the fault session:
// open it (selftest mock or a VFIO device), trigger selftest vEVENTs, and
// the core streams what it read as 'vevent.frame' events (coalesced, at most
// 10 a second), each with the rows read since the last one and the totals.
import { number, object, optional, string, trusted } from './schema';
import type { DecodedVevent } from './vevent-decode';

/** One row of the Events view: a vEVENT read, or a loss the kernel reported. */
export type VeventUiRow =
  | {
      kind: 'event';
      /** Order of arrival in this core (rows are identified by it, sequences wrap). */
      n: number;
      sequence: number;
      /** ms since the vEVENTQ source was opened. */
      t: number;
      virtId: string | null;
      /** The decode's kind and one-line summary, and every decoded field. */
      decoded: DecodedVevent;
      hex: string;
    }
  | {
      kind: 'lost';
      n: number;
      t: number;
      /** The last sequence read before the loss; null: before any. */
      after: number | null;
      lost: number;
      /** Reported with IOMMU_VEVENTQ_FLAG_LOST_EVENTS (else a sequence gap). */
      marker: boolean;
    };

export interface VeventState {
  open: boolean;
  /** 'mock' (selftest) or the VFIO device path. */
  device: string | null;
  /** The kernel's vEVENTQ object id, and its type's name. */
  queue: number | null;
  typeName: string | null;
  depth: number | null;
  virtId: string | null;
  canTrigger: boolean;
  lastError: string | null;
}

export interface VeventTotalsUi {
  read: number;
  lost: number;
  lostMarkers: number;
  errors: number;
  overflow: number;
  /** TRIGGER_VEVENT calls made and failed (the selftest only). */
  injected: number;
  injectFailed: number;
}

export interface VeventFrame {
  state: VeventState;
  totals: VeventTotalsUi;
  /** The rows since the previous frame, oldest first (at most MAX_VEVENT_ROWS_PER_FRAME). */
  rows: VeventUiRow[];
  /** Rows the core dropped from this frame because too many came at once (still counted in totals). */
  rowsSkipped: number;
}

export const MAX_VEVENT_ROWS_PER_FRAME = 2000;
export const VEVENT_DEPTH_MAX = 1 << 19;

export const veventRequests = {
  'vevent.state': { params: object({}), result: trusted<VeventState>('VeventState') },
  /** Open a vEVENTQ source: the selftest mock without `device`, else that VFIO device. */
  'vevent.open': {
    params: object({
      device: optional(string({ max: 256, pattern: /^\/dev\/vfio\/devices\/vfio\d+$/ })),
      depth: number({ int: true, min: 1, max: VEVENT_DEPTH_MAX }),
      /** Decimal or 0x hex, 64 bits (the selftest: 1..0xffffffff). */
      virtId: string({ max: 20, pattern: /^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/ }),
    }),
    result: trusted<VeventState>('VeventState'),
  },
  'vevent.close': { params: object({}), result: trusted<VeventState>('VeventState') },
  /** `spec` uses the CLI's vevent --inject grammar (count=N[,rate=R][,prefill=K]; prefill is refused: the reader runs). */
  'vevent.trigger': {
    params: object({ spec: string({ max: 128 }) }),
    result: trusted<object>('ok'),
  },
};

export const veventEvents = {
  'vevent.frame': trusted<VeventFrame>('VeventFrame'),
};
