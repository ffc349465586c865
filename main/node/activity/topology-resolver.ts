// Resolves fault and tracepoint device names to the Host view's devices:
// IOMMU group, bound driver and unit, from a topology scan that is redone
// (debounced) when the tracepoints say a device moved.
import type { HostTopology } from '../../common/host-topology';
import type { ResolvedDevice } from '../../common/activity/stream';
import { scanTopology } from '../topology/scan';

export class TopologyResolver {
  private byAddress = new Map<
    string,
    { group: number | null; driver: string | null; unit: string | null }
  >();
  private timer: NodeJS.Timeout | null = null;
  units: string[] = [];

  constructor(private readonly sysfsRoot = '/sys') {
    this.rescan();
  }

  use(t: HostTopology): void {
    this.byAddress = new Map(
      t.devices.map((d) => [
        d.address.toLowerCase(),
        { group: d.group, driver: d.driver, unit: d.unit },
      ]),
    );
    this.units = t.units.map((u) => u.name);
  }

  rescan(): void {
    try {
      this.use(scanTopology({ sysfsRoot: this.sysfsRoot, pciIds: null }));
    } catch {
      // No sysfs (a test or a container): names stay unresolved.
    }
  }

  /** Rescans 200 ms after the last change event (binds come in bursts). */
  changed(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.rescan();
    }, 200);
    this.timer.unref();
  }

  resolve = (device: string): ResolvedDevice => {
    const d = this.byAddress.get(device.toLowerCase());
    return d ? { group: d.group, driver: d.driver } : { group: null, driver: null };
  };

  unitOf = (device: string | null): string | null =>
    device ? (this.byAddress.get(device.toLowerCase())?.unit ?? null) : null;

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
