// One VeventBatch (the native reader's columns) as rows: each delivered event
// with its hex data and decode, and each loss (sequence gap or LOST_EVENTS
// marker) as its own row naming the last sequence read before it. The CLI's
// text/NDJSON output and the dashboard's Events view both start from these.
import { decodeVevent, type DecodedVevent } from '../../common/vevent-decode';
import { VEVENTQ_FLAG_LOST_EVENTS, type VeventBatch } from '../native/addon-types';

export interface VeventRow {
  kind: 'event';
  sequence: number;
  flags: number;
  readNs: number;
  /** The event's data, lowercase hex. */
  hex: string;
  virtId: string | null;
  decoded: DecodedVevent;
}

export interface VeventLossRow {
  kind: 'lost';
  /** The sequence of the last event read before the loss (null: none yet). */
  after: number | null;
  /** How many events were lost (sequence gap, plus 1 for a marker). */
  lost: number;
  /** True when the kernel said so with IOMMU_VEVENTQ_FLAG_LOST_EVENTS. */
  marker: boolean;
  readNs: number;
}

export type VeventItem = VeventRow | VeventLossRow;

/** Carries the last sequence read across batches (to name where a loss happened). */
export class VeventRowDecoder {
  private last: number | null = null;

  constructor(private readonly eventType: number) {}

  rows(b: VeventBatch): VeventItem[] {
    const out: VeventItem[] = [];
    const e = b.events;
    const bytes = new Uint8Array(b.data);
    for (let i = 0; i < e.sequence.length; i++) {
      const sequence = e.sequence[i]!;
      const flags = e.flags[i]!;
      const readNs = e.readNs[i]!;
      const lost = e.lostBefore[i]!;
      const marker = (flags & VEVENTQ_FLAG_LOST_EVENTS) !== 0;
      if (lost > 0 || marker) out.push({ kind: 'lost', after: this.last, lost, marker, readNs });
      if (marker) {
        // The marker carries the last lost event's sequence: the next event follows it.
        this.last = sequence;
        continue;
      }
      const data = bytes.subarray(e.offset[i]!, e.offset[i]! + e.length[i]!);
      const decoded = decodeVevent(this.eventType, data);
      out.push({
        kind: 'event',
        sequence,
        flags,
        readNs,
        hex: Buffer.from(data).toString('hex'),
        virtId: decoded.virtId ?? null,
        decoded,
      });
      this.last = sequence;
    }
    return out;
  }
}
