// Host topology (units, groups, devices) and short-lived highlights of what
// just changed, so a device bound to vfio-pci lights up and then fades.
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type {
  HostTopology,
  TopologyChange,
  TopologyUpdate,
} from '../../../main/common/host-topology';
import { useCore } from '../transport';
import { bindUrlState } from '../url-state';

/** How long a change stays highlighted (the CSS fade runs for the same time). */
export const HIGHLIGHT_MS = 6000;

export interface Highlight {
  kind: TopologyChange['kind'];
  fields: string[];
  until: number;
}

export const highlightKey = (entity: TopologyChange['entity'], id: string | number): string =>
  `${entity}:${id}`;

export const useHostStore = defineStore('host', () => {
  const topology = shallowRef<HostTopology | null>(null);
  const highlights = ref(new Map<string, Highlight>());
  /** The last 20 changes, newest first, for the view's "recent changes" strip. */
  const recentChanges = ref<(TopologyChange & { at: number })[]>([]);
  const search = ref('');
  /** Address of the device whose pane is open; kept in the URL (`#device=0000:01:00.0`). */
  const selected = ref<string | null>(null);
  bindUrlState('device', selected, { parse: (text) => text, format: (value) => value });
  let sweepTimer: ReturnType<typeof setTimeout> | null = null;

  async function load(): Promise<void> {
    topology.value = await useCore().request('host.snapshot', {});
  }

  function applyUpdate(update: TopologyUpdate): void {
    topology.value = update.topology;
    const now = Date.now();
    for (const change of update.changes) {
      highlights.value.set(highlightKey(change.entity, change.id), {
        kind: change.kind,
        fields: change.fields ?? [],
        until: now + HIGHLIGHT_MS,
      });
    }
    recentChanges.value = [
      ...update.changes.map((c) => ({ ...c, at: now })),
      ...recentChanges.value,
    ].slice(0, 20);
    scheduleSweep();
  }

  function scheduleSweep(): void {
    if (sweepTimer) return;
    sweepTimer = setTimeout(() => {
      sweepTimer = null;
      const now = Date.now();
      for (const [key, h] of highlights.value) if (h.until <= now) highlights.value.delete(key);
      if (highlights.value.size) scheduleSweep();
    }, 1000);
  }

  function highlightOf(
    entity: TopologyChange['entity'],
    id: string | number,
  ): Highlight | undefined {
    return highlights.value.get(highlightKey(entity, id));
  }

  return {
    topology,
    highlights,
    recentChanges,
    search,
    selected,
    load,
    applyUpdate,
    highlightOf,
  };
});
