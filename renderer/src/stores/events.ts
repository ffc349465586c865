// Events view state: the vEVENTQ source's rows and totals, fed by the core's
// 'vevent.frame' events through the pure VeventTable (main/common: unit
// tested); open/close/trigger requests for the Session view's vEVENTQ panel.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { VeventFrame, VeventState } from '../../../main/common/vevent-contract';
import { VeventTable } from '../../../main/common/vevent-table';
import { errorMessage } from '../format';
import { useCore } from '../transport';
import { useAppStore } from './app';

export const useEventsStore = defineStore('events', () => {
  const table = new VeventTable();
  /** Bumped per applied frame: the view's computeds read the table through it. */
  const version = ref(0);
  const state = shallowRef<VeventState | null>(null);
  const busy = ref(false);

  function applyFrame(f: VeventFrame): void {
    table.apply(f);
    state.value = f.state;
    version.value++;
  }

  async function load(): Promise<void> {
    state.value = await useCore().request('vevent.state', {});
  }

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    busy.value = true;
    try {
      return await fn();
    } catch (err) {
      useAppStore().notify('error', `${what}: ${errorMessage(err)}`);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  async function open(p: { device?: string; depth: number; virtId: string }): Promise<boolean> {
    const s = await call('vevent.open', () => useCore().request('vevent.open', p));
    if (s) state.value = s;
    return s !== undefined;
  }

  async function close(): Promise<void> {
    const s = await call('vevent.close', () => useCore().request('vevent.close', {}));
    if (s) state.value = s;
  }

  async function trigger(spec: string): Promise<void> {
    await call('vevent.trigger', () => useCore().request('vevent.trigger', { spec }));
  }

  const rows = computed(() => (version.value, table.newest(1000)));
  const totals = computed(() => (version.value, table.totals));
  const lost = computed(() => (version.value, table.lost));
  const lossRows = computed(() => (version.value, table.lossRows));
  const rowsDropped = computed(() => (version.value, table.rowsDropped));

  return {
    state,
    busy,
    rows,
    totals,
    lost,
    lossRows,
    rowsDropped,
    applyFrame,
    load,
    open,
    close,
    trigger,
  };
});
