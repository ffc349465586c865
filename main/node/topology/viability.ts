// Whether a group can be handed to VFIO: the kernel lets userspace own a
// group's DMA only when every device in it is unbound or bound to a driver
// that manages DMA itself (driver_managed_dma): the vfio-pci family,
// pci-stub, and pcieport for bridges.
import type { GroupViability, HostDevice } from '../../common/host-topology';

const PCI_ADDRESS = /^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const DMA_SAFE_DRIVERS = new Set(['pci-stub', 'pcieport']);

/** vfio-pci, vfio-platform and vendor variants such as mlx5_vfio_pci. */
export function isVfioDriver(driver: string | null): boolean {
  return driver !== null && /(^|[-_])vfio([-_]|$)/.test(driver);
}

export function groupViability(devices: Pick<HostDevice, 'address' | 'driver'>[]): GroupViability {
  const reasons: string[] = [];
  if (devices.length === 0) reasons.push('the group has no devices');
  for (const d of devices) {
    if (d.driver === null || isVfioDriver(d.driver) || DMA_SAFE_DRIVERS.has(d.driver)) continue;
    const how = PCI_ADDRESS.test(d.address)
      ? `echo ${d.address} > /sys/bus/pci/devices/${d.address}/driver/unbind`
      : `write ${d.address} to its driver's unbind file`;
    reasons.push(`${d.address} is bound to ${d.driver}: unbind it (${how}) or bind it to vfio-pci`);
  }
  return { viable: reasons.length === 0, reasons };
}
