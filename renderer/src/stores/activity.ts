// Activity view state: host-wide decoded IOMMU events (DMA faults first),
// source states, and a bounded history of per-second rates, fed by the
// core's 'activity' batches; filters by device, unit and reason.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type {
  ActivityBatch,
  ActivityEvent,
  RatesEvent,
  SourceState,
  TimedFault,
} from '../../../main/common/activity/stream';
import type { DebugfsUnit, DevicePasids } from '../../../main/common/debugfs/events';
import { useCore } from '../transport';

const MAX_FAULTS = 2000;
const MAX_EVENTS = 500;
const MAX_RATES = 120;

export interface DeviceFaultSummary {
  count: number;
  last: TimedFault;
}

export const useActivityStore = defineStore('activity', () => {
  const enabled = ref<boolean | null>(null);
  const sources = ref<SourceState[]>([]);
  const faults = shallowRef<TimedFault[]>([]);
  const others = shallowRef<ActivityEvent[]>([]);
  const rates = shallowRef<RatesEvent[]>([]);
  const suppressed = ref(0);
  const unparsed = ref(0);
  const dropped = ref(0);
  const filter = ref({ device: '', unit: '', reason: '' });
  const byDevice = shallowRef(new Map<string, DeviceFaultSummary>());
  // Intel debugfs: the newest state per unit and per device (live PASIDs).
  const debugfsUnits = shallowRef(new Map<string, DebugfsUnit>());
  const devicePasids = shallowRef(new Map<string, DevicePasids>());

  function addDebugfs(units: DebugfsUnit[], devices: DevicePasids[]): void {
    if (units.length) {
      const m = new Map(debugfsUnits.value);
      for (const u of units) m.set(u.unit, u);
      debugfsUnits.value = m;
    }
    if (devices.length) {
      const m = new Map(devicePasids.value);
      for (const d of devices) m.set(d.device, d);
      devicePasids.value = m;
    }
  }

  function add(events: ActivityEvent[]): void {
    const newFaults: TimedFault[] = [];
    const rest: ActivityEvent[] = [];
    const dev = new Map(byDevice.value);
    const units: DebugfsUnit[] = [];
    const pasids: DevicePasids[] = [];
    for (const e of events) {
      if (e.type === 'debugfs-unit') units.push(e);
      else if (e.type === 'device-pasids') pasids.push(e);
      else if (e.type === 'dma-fault') {
        newFaults.push(e);
        if (e.device) dev.set(e.device, { count: (dev.get(e.device)?.count ?? 0) + 1, last: e });
      } else if (e.type === 'source') {
        sources.value = [...sources.value.filter((s) => s.source !== e.source), e];
      } else {
        if (e.type === 'suppressed') suppressed.value += e.count;
        if (e.type === 'unparsed') unparsed.value++;
        rest.push(e);
      }
    }
    if (newFaults.length) faults.value = [...faults.value, ...newFaults].slice(-MAX_FAULTS);
    if (rest.length) others.value = [...others.value, ...rest].slice(-MAX_EVENTS);
    byDevice.value = dev;
    addDebugfs(units, pasids);
  }

  function applyBatch(b: ActivityBatch): void {
    enabled.value = true;
    add(b.events);
    if (b.rates) rates.value = [...rates.value, b.rates].slice(-MAX_RATES);
    dropped.value += b.dropped;
  }

  async function load(): Promise<void> {
    const s = await useCore().request('activity.snapshot', {});
    enabled.value = s.enabled;
    sources.value = s.sources;
    faults.value = [];
    others.value = [];
    byDevice.value = new Map();
    debugfsUnits.value = new Map();
    devicePasids.value = new Map();
    suppressed.value = unparsed.value = 0;
    add(s.events);
    addDebugfs(s.debugfs?.units ?? [], s.debugfs?.devices ?? []);
    rates.value = s.rates.slice(-MAX_RATES);
  }

  const filtered = computed(() => {
    const f = filter.value;
    return faults.value.filter(
      (x) =>
        (!f.device || (x.device ?? '').includes(f.device)) &&
        (!f.unit || x.unit === f.unit) &&
        (!f.reason || x.reasonName === f.reason || String(x.reason) === f.reason),
    );
  });
  const units = computed(() => [
    ...new Set(faults.value.map((x) => x.unit).filter((u): u is string => !!u)),
  ]);
  const reasons = computed(() => [...new Set(faults.value.map((x) => x.reasonName))]);
  const latestRates = computed(() => rates.value.at(-1) ?? null);

  return {
    enabled,
    sources,
    faults,
    others,
    rates,
    suppressed,
    unparsed,
    dropped,
    filter,
    byDevice,
    debugfsUnits,
    devicePasids,
    filtered,
    units,
    reasons,
    latestRates,
    applyBatch,
    load,
  };
});
