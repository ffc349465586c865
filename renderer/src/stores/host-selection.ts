// The Host view's selected device (`#device=0000:00:05.0`): the device pane
// shows its group, driver, faults and PASID state. Other views select a
// device with show(), e.g. a faulting device clicked in the Activity view.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { bindUrlState } from '../url-state';
import { useAppStore } from './app';

const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

export const useHostSelection = defineStore('hostSelection', () => {
  const device = ref('');
  bindUrlState('device', device, {
    parse: (text) => (PCI_ADDRESS.test(text) ? text : undefined),
    format: (value) => value,
  });

  /** Selects `address` and switches to the Host view. */
  function show(address: string): void {
    device.value = address;
    useAppStore().tab = 'Host';
  }

  function toggle(address: string): void {
    device.value = device.value === address ? '' : address;
  }

  return { device, show, toggle };
});
