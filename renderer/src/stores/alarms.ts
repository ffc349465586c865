// Thresholds and alarms: the conditions in alarms/settings.ts are checked
// as frames, host snapshots and activity arrive; each crossing raises one
// notice (alarms/crossings.ts) and leaves a mark at its session time on the
// rate charts (bounded list). The rate threshold is also drawn as a line.
import { defineStore } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import type { Frame } from '../../../main/common/contract';
import type { HostTopology } from '../../../main/common/host-topology';
import type { TimedFault } from '../../../main/common/activity/stream';
import { fmtInt } from '../format';
import { Crossings, type Condition } from '../alarms/crossings';
import { loadAlarms, saveAlarms, type AlarmSettings } from '../alarms/settings';
import { useAppStore } from './app';

/** Marks kept for the charts (oldest dropped). */
export const MAX_MARKS = 50;
/** A DMA fault alarm holds this long after the last fault (then a new one fires again). */
const DMA_QUIET_MS = 10_000;

export interface AlarmMark {
  /** Session seconds of the crossing. */
  t: number;
  label: string;
}

/** Short text of a chart mark: the condition's name. */
function markLabel(key: string): string {
  if (key.startsWith('pri:')) return 'PRI stopped';
  if (key.startsWith('dma:')) return 'DMA fault';
  return key.slice(key.indexOf(':') + 1);
}

export const useAlarmsStore = defineStore('alarms', () => {
  const settings = ref<AlarmSettings>(loadAlarms());
  const marks = shallowRef<AlarmMark[]>([]);
  const crossings = new Crossings();
  let lastFrame: Frame | null = null;
  let lastDmaAt = -Infinity;
  let seenFaults: TimedFault | undefined;

  function raise(fired: Condition[], t: number): void {
    if (fired.length === 0) return;
    const app = useAppStore();
    for (const c of fired) app.notify('warning', `Alarm: ${c.message}`);
    marks.value = [...marks.value, ...fired.map((c) => ({ t, label: markLabel(c.key) }))].slice(
      -MAX_MARKS,
    );
  }

  function checkFrame(f: Frame): void {
    if (lastFrame && f.t < lastFrame.t) {
      // A new session: its counters start at zero, and so do the alarms on them.
      crossings.reset('frame');
      marks.value = [];
    }
    lastFrame = f;
    const s = settings.value;
    const x = f.totals;
    const conditions: Condition[] = [
      {
        key: 'frame:pending',
        active: s.pendingAbove !== null && x.pending > s.pendingAbove,
        message: `${fmtInt(x.pending)} pending groups (above ${fmtInt(s.pendingAbove ?? 0)})`,
      },
      {
        key: 'frame:rate',
        active: s.rateAbove !== null && f.faultRate > s.rateAbove,
        message: `${fmtInt(f.faultRate)} page requests/s (above ${fmtInt(s.rateAbove ?? 0)}/s)`,
      },
      {
        key: 'frame:overflow',
        active: s.overflow && x.overflow > 0,
        message: `${fmtInt(x.overflow)} page requests left out by queue overflow`,
      },
      {
        key: 'frame:errors',
        active: s.errors && x.errors > 0,
        message: `${fmtInt(x.errors)} fault queue error(s)`,
      },
    ];
    raise(crossings.update(conditions, 'frame'), f.t / 1000);
  }

  function checkHost(topo: HostTopology | null): void {
    if (!topo) return;
    const on = settings.value.priStopped;
    const conditions = topo.devices.map((d) => ({
      key: `pri:${d.address}`,
      active: on && d.pri.status?.stopped === true,
      message: `PRI Stopped on ${d.address}${d.deviceName ? ` (${d.deviceName})` : ''}`,
    }));
    raise(crossings.update(conditions, 'pri'), (lastFrame?.t ?? 0) / 1000);
  }

  function checkActivity(faults: readonly TimedFault[]): void {
    const from = seenFaults ? faults.lastIndexOf(seenFaults) + 1 : 0;
    const fresh = faults.slice(from);
    seenFaults = faults.at(-1);
    if (fresh.length === 0 || !settings.value.dmaFault) return;
    const now = Date.now();
    const quiet = now - lastDmaAt > DMA_QUIET_MS;
    lastDmaAt = now;
    if (!quiet) return;
    const e = fresh[0]!;
    const n = fresh.length;
    const message = `DMA fault${n > 1 ? `s (${n})` : ''} on ${e.device ?? 'an unknown device'}`;
    raise([{ key: 'dma:fault', active: true, message }], (lastFrame?.t ?? 0) / 1000);
  }

  // Changed thresholds apply to the current values at once (a crossing now raises one notice).
  watch(
    settings,
    (s) => {
      saveAlarms(s);
      if (lastFrame) checkFrame(lastFrame);
    },
    { deep: true },
  );

  function setThreshold(which: 'pendingAbove' | 'rateAbove', text: string): string | null {
    const t = text.trim();
    if (t === '') {
      settings.value = { ...settings.value, [which]: null };
      return null;
    }
    const n = Number(t);
    if (!Number.isFinite(n) || n < 0) return `'${text}' is not a number ≥ 0 (empty turns it off)`;
    settings.value = { ...settings.value, [which]: n };
    return null;
  }

  return { settings, marks, checkFrame, checkHost, checkActivity, setThreshold };
});
