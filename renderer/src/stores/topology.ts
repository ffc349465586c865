// The session's iommufd objects (Topology view), replaced on every
// topology.changed event.
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { IommufdObjects } from '../../../main/common/iommufd-objects';
import { useCore } from '../transport';

export const useTopologyStore = defineStore('topology', () => {
  const objects = shallowRef<IommufdObjects | null>(null);
  const selectedKey = ref<string | null>(null);
  /** Bumped on each update so the graph redraws once per change. */
  const version = ref(0);

  async function load(): Promise<void> {
    set(await useCore().request('topology.objects', {}));
  }

  function set(next: IommufdObjects | null): void {
    objects.value = next;
    version.value++;
    if (selectedKey.value && !next?.nodes.some((n) => n.key === selectedKey.value)) {
      selectedKey.value = null;
    }
  }

  return { objects, selectedKey, version, load, set };
});
