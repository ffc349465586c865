// The host topology as Prometheus info metrics: one series per IOMMU unit,
// group and device (value 1, facts in labels), ATS/PRI/PASID state per
// device (1 enabled, 0 supported but disabled; no series when unknown or
// unsupported), and per-host counts a fleet dashboard can sum.
import { Gauge, type Registry } from 'prom-client';
import type { CapabilityState, HostTopology } from '../../common/host-topology';

const CAPS = ['ats', 'pri', 'pasid'] as const;
const yesNo = (v: boolean | null | undefined): string =>
  v === true ? 'true' : v === false ? 'false' : 'unknown';

export class TopologyMetrics {
  private readonly unit: Gauge<'unit' | 'kind' | 'pasid' | 'page_requests' | 'sva' | 'nested'>;
  private readonly group: Gauge<'group' | 'type' | 'viable'>;
  private readonly groupDevices: Gauge<'group'>;
  private readonly device: Gauge<
    'device' | 'driver' | 'group' | 'unit' | 'vendor_id' | 'device_id' | 'vfio'
  >;
  private readonly capEnabled: Gauge<'device' | 'cap'>;
  private readonly capCount: Gauge<'cap'>;
  private readonly scanned: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.unit = new Gauge({
      name: 'iommuscope_iommu_unit_info',
      help: 'An IOMMU unit and its decoded capabilities (value 1)',
      labelNames: ['unit', 'kind', 'pasid', 'page_requests', 'sva', 'nested'],
      registers,
    });
    this.group = new Gauge({
      name: 'iommuscope_iommu_group_info',
      help: 'An IOMMU group, its default domain type and VFIO viability (value 1)',
      labelNames: ['group', 'type', 'viable'],
      registers,
    });
    this.groupDevices = new Gauge({
      name: 'iommuscope_iommu_group_devices',
      help: 'Devices in an IOMMU group',
      labelNames: ['group'],
      registers,
    });
    this.device = new Gauge({
      name: 'iommuscope_device_info',
      help: 'A device behind an IOMMU: driver, group, unit, ids, VFIO cdev (value 1)',
      labelNames: ['device', 'driver', 'group', 'unit', 'vendor_id', 'device_id', 'vfio'],
      registers,
    });
    this.capEnabled = new Gauge({
      name: 'iommuscope_device_capability_enabled',
      help: 'ATS/PRI/PASID of a device: 1 enabled, 0 supported and disabled (absent when unsupported or unreadable)',
      labelNames: ['device', 'cap'],
      registers,
    });
    this.capCount = new Gauge({
      name: 'iommuscope_devices_capability_enabled',
      help: 'Devices on this host with ATS/PRI/PASID enabled',
      labelNames: ['cap'],
      registers,
    });
    this.scanned = new Gauge({
      name: 'iommuscope_topology_scan_timestamp_seconds',
      help: 'When the host topology was last scanned (Unix time)',
      registers,
    });
  }

  update(t: HostTopology): void {
    for (const g of [this.unit, this.group, this.groupDevices, this.device, this.capEnabled])
      g.reset();
    for (const u of t.units) {
      this.unit.set(
        {
          unit: u.name,
          kind: u.kind,
          pasid: yesNo(u.summary.pasid),
          page_requests: yesNo(u.summary.pageRequests),
          sva: yesNo(u.summary.sva),
          nested: yesNo(u.summary.nested),
        },
        1,
      );
    }
    for (const g of t.groups) {
      const id = String(g.id);
      this.group.set(
        { group: id, type: g.type ?? 'unknown', viable: String(g.viability.viable) },
        1,
      );
      this.groupDevices.set({ group: id }, g.devices.length);
    }
    const counts = { ats: 0, pri: 0, pasid: 0 };
    for (const d of t.devices) {
      this.device.set(
        {
          device: d.address,
          driver: d.driver ?? 'none',
          group: d.group === null ? 'none' : String(d.group),
          unit: d.unit ?? 'none',
          vendor_id: d.vendorId === undefined ? '' : hex4(d.vendorId),
          device_id: d.deviceId === undefined ? '' : hex4(d.deviceId),
          vfio: d.vfioCdev ?? '',
        },
        1,
      );
      for (const cap of CAPS) {
        const s: CapabilityState = d[cap];
        if (s.supported !== true || s.enabled === null) continue;
        this.capEnabled.set({ device: d.address, cap }, s.enabled ? 1 : 0);
        if (s.enabled) counts[cap]++;
      }
    }
    for (const cap of CAPS) this.capCount.set({ cap }, counts[cap]);
    this.scanned.set(t.takenAt / 1000);
  }
}

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
