// A vEVENTQ reader batch as recording frames: one vevent frame per event and
// per LOST_EVENTS marker (header flags, sequence and data exactly as read).
import type { VeventBatch } from '../native/addon-types';
import type { VEventFrame } from '../recording/frames';
import type { VeventSource } from '../sources/vevent-source';

export function veventFrames(s: VeventSource, b: VeventBatch): Omit<VEventFrame, 'kind'>[] {
  const e = b.events;
  const bytes = new Uint8Array(b.data);
  return Array.from(e.sequence, (sequence, i) => ({
    monoNs: e.readNs[i]!,
    viommuId: s.ids.viommu,
    veventqId: s.ids.veventq,
    eventType: s.eventType,
    headerFlags: e.flags[i]!,
    sequence,
    data: bytes.slice(e.offset[i]!, e.offset[i]! + e.length[i]!),
  }));
}
