// The user's alarm thresholds, kept in localStorage (a broken or foreign
// value falls back to the defaults field by field, never trusted).
const KEY = 'iommuscope.alarms';

export interface AlarmSettings {
  /** Alarm when pending groups exceed this; null: off. */
  pendingAbove: number | null;
  /** Alarm when the page request rate exceeds this (per second); null: off. Drawn on the device chart. */
  rateAbove: number | null;
  /** Records left out of batches (queue overflow) > 0. */
  overflow: boolean;
  /** Queue errors > 0. */
  errors: boolean;
  /** A host device's PRI status reads Stopped (Host data). */
  priStopped: boolean;
  /** A DMA fault in the host's IOMMU activity. */
  dmaFault: boolean;
}

export const DEFAULT_ALARMS: Readonly<AlarmSettings> = {
  pendingAbove: null,
  rateAbove: null,
  overflow: true,
  errors: true,
  priStopped: true,
  dmaFault: true,
};

const MAX_THRESHOLD = 1e12;

function threshold(v: unknown, fallback: number | null): number | null {
  if (v === null) return null;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_THRESHOLD ? v : fallback;
}

function flag(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

export function loadAlarms(): AlarmSettings {
  const d = DEFAULT_ALARMS;
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Record<string, unknown>;
    if (typeof v !== 'object' || v === null) return { ...d };
    return {
      pendingAbove: threshold(v.pendingAbove, d.pendingAbove),
      rateAbove: threshold(v.rateAbove, d.rateAbove),
      overflow: flag(v.overflow, d.overflow),
      errors: flag(v.errors, d.errors),
      priStopped: flag(v.priStopped, d.priStopped),
      dmaFault: flag(v.dmaFault, d.dmaFault),
    };
  } catch {
    return { ...d };
  }
}

export function saveAlarms(s: AlarmSettings): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // Storage unavailable: the thresholds last for this page.
  }
}
