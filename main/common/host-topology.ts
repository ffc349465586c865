// The host topology document: what the kernel sees of IOMMU units, IOMMU
// groups and the devices behind them, decoded. Pure data (JSON-safe: no
// bigint, 64-bit values are hex strings) so the same object travels over the
// IPC contract, the browser-mode WebSocket and `iommuscope groups --json`.
//
// Unknown is not false: a capability whose state could not be read (config
// space past 64 bytes needs privileges) has `supported: null` and says why in
// `unknown`. Per-item problems never abort a scan; they are listed on the item.

/** Version of this document's shape; bumped only on incompatible changes. */
export const HOST_TOPOLOGY_SCHEMA = 1;

/** Something that could not be read or made sense of, on one item. */
export interface TopologyProblem {
  /** sysfs path relative to the sysfs root, when the problem is about one file. */
  path?: string;
  /** errno name ('ENOENT', 'EACCES', ...) or one of ours: 'EPARSE', 'ETRUNC', 'EVANISHED'. */
  code: string;
  message: string;
}

export type IommuKind = 'intel-vtd' | 'amd-vi' | 'arm-smmuv3' | 'other';

/** Human labels for IommuKind. */
export const IOMMU_KIND_LABELS: Record<IommuKind, string> = {
  'intel-vtd': 'Intel VT-d',
  'amd-vi': 'AMD-Vi',
  'arm-smmuv3': 'Arm SMMUv3',
  other: 'other',
};

/** One decoded capability bit or field of an IOMMU unit's registers. */
export interface UnitFeature {
  /** Stable key, e.g. 'scalableMode', 'pasidBits', 'prs'. */
  key: string;
  /** Short human label, e.g. 'Scalable mode'. */
  label: string;
  value: boolean | number | string;
  /** Which register and bits it came from, e.g. 'ecap[43]'. */
  source: string;
}

/**
 * The features every unit kind maps onto, for columns and filters. A field is
 * absent when the unit kind does not report it.
 */
export interface UnitSummary {
  scalableMode?: boolean;
  pasid?: boolean;
  /** PASID width in bits (VT-d: ecap.PSS + 1; AMD: PASmax + 1). */
  pasidBits?: number;
  /** Page request support (VT-d ecap.PRS, AMD PPRSup). */
  pageRequests?: boolean;
  nested?: boolean;
  firstLevel?: boolean;
  secondLevel?: boolean;
  /** Shared virtual addressing possible (PASID + PRS + first level, or vendor equivalent). */
  sva?: boolean;
  /** VT-d caching mode (set by emulated IOMMUs: every map needs an invalidation). */
  cachingMode?: boolean;
  domainsSupported?: number;
  domainsUsed?: number;
}

export interface IommuUnit {
  /** Name under /sys/class/iommu, e.g. 'dmar0', 'ivhd0'. */
  name: string;
  kind: IommuKind;
  /** Raw register/attribute values as read (hex strings kept as read, trimmed). */
  registers: Record<string, string>;
  features: UnitFeature[];
  summary: UnitSummary;
  /** Addresses of the devices behind this unit (its `devices/` folder). */
  devices: string[];
  problems: TopologyProblem[];
}

export interface ReservedRegion {
  /** 0x-prefixed hex, as the kernel prints it. */
  start: string;
  end: string;
  /** 'direct', 'direct-relaxable', 'reserved', 'msi', 'sw-msi', ... */
  kind: string;
}

export interface GroupViability {
  /** Every endpoint bound to vfio-pci (or another vfio driver) or to no driver. */
  viable: boolean;
  /** Why not, one entry per offending device; empty when viable. */
  reasons: string[];
}

export interface IommuGroup {
  id: number;
  /** Default domain type: 'DMA', 'DMA-FQ', 'identity', 'blocked', 'unmanaged'... */
  type: string | null;
  reservedRegions: ReservedRegion[];
  /** Device addresses in the group. */
  devices: string[];
  viability: GroupViability;
  problems: TopologyProblem[];
}

/** Common part of the ATS/PRI/PASID capability objects. */
export interface CapabilityState {
  /** null when config space could not be read far enough to know. */
  supported: boolean | null;
  enabled: boolean | null;
  /** Offset of the extended capability in config space, when found. */
  offset?: number;
  /** Why supported/enabled are null. */
  unknown?: string;
}

export interface AtsState extends CapabilityState {
  /** Smallest Translation Unit, as programmed (log2 of the unit in 4 KiB pages). */
  stu?: number;
  /** Invalidate Queue Depth; 32 when the field reads 0. */
  invalidateQueueDepth?: number;
  pageAlignedRequest?: boolean;
  globalInvalidate?: boolean;
}

export interface PriStatus {
  responseFailure: boolean;
  /** Unexpected Page Request Group Index. */
  uprgi: boolean;
  stopped: boolean;
  prgResponsePasidRequired: boolean;
}

export interface PriState extends CapabilityState {
  /** Control.Reset as last written (reads back 0 on most devices). */
  reset?: boolean;
  status?: PriStatus;
  outstandingCapacity?: number;
  outstandingAllocation?: number;
}

export interface PasidState extends CapabilityState {
  /** Max PASID width in bits (0..20). */
  maxWidth?: number;
  execSupported?: boolean;
  execEnabled?: boolean;
  privSupported?: boolean;
  privEnabled?: boolean;
}

/** Access Control Services (peer-to-peer isolation: what makes IOMMU groups small). */
export interface AcsState extends CapabilityState {
  /** Supported controls by name ('SrcValid', 'ReqRedir', ...), in register order. */
  capabilities: string[];
  /** Enabled controls. */
  controls: string[];
}

/** One entry of a device's capability lists, as `lspci -vvv` lists it. */
export interface PciCapability {
  /** 'std': the list from config offset 0x34; 'ext': the PCIe extended list from 0x100. */
  space: 'std' | 'ext';
  /** Capability ID (8-bit standard, 16-bit extended). */
  id: number;
  offset: number;
  /** Extended capability version (header bits 19:16). */
  version?: number;
  /** Spec name, or 'unknown capability 0x..'. */
  name: string;
  /** Decoded key fields, lspci-style ('state D0', 'Enable+'); empty when only the name is decoded. */
  fields: string[];
}

/** How much of the device's config space could be read. */
export type ConfigAccess =
  | 'full' // 4096 bytes (PCIe extended space)
  | 'legacy' // 256 bytes: conventional PCI, no extended capabilities exist
  | 'header-only' // 64 bytes: unprivileged read, capabilities unknown
  | 'none' // could not be read at all
  | 'not-pci';

export interface HostDevice {
  /** PCI address '0000:00:03.0', or the sysfs device name for non-PCI devices. */
  address: string;
  bus: 'pci' | 'platform' | 'other';
  /** sysfs path of the device, relative to the sysfs root. */
  sysfsPath: string;
  vendorId?: number;
  deviceId?: number;
  subsystemVendorId?: number;
  subsystemDeviceId?: number;
  vendorName?: string;
  deviceName?: string;
  /** 24-bit class code (base, sub, prog-if). */
  classCode?: number;
  /** Revision ID (config space 0x08). */
  revision?: number;
  className?: string;
  /** Bound driver name, or null when unbound. */
  driver: string | null;
  /** IOMMU group id, or null when the device has none. */
  group: number | null;
  /** IOMMU unit name (e.g. 'dmar0'), or null. */
  unit: string | null;
  /** VFIO device cdev name ('vfio0' → /dev/vfio/devices/vfio0) when bound to VFIO. */
  vfioCdev: string | null;
  configAccess: ConfigAccess;
  ats: AtsState;
  pri: PriState;
  pasid: PasidState;
  /** ACS, when the extended config space could be read. */
  acs?: AcsState;
  /**
   * Every capability found, standard list first; absent when only the 64-byte
   * header was readable (unknown, not none).
   */
  capabilities?: PciCapability[];
  problems: TopologyProblem[];
}

export interface HostTopology {
  schema: typeof HOST_TOPOLOGY_SCHEMA;
  /** The sysfs root this was read from ('/sys' unless a fixture). */
  sysfsRoot: string;
  /** Wall-clock ms (Date.now()) when the scan started. */
  takenAt: number;
  /** How long the scan and decode took, in ms. */
  scanMs: number;
  units: IommuUnit[];
  groups: IommuGroup[];
  devices: HostDevice[];
  /** Problems that are not about one unit, group or device (e.g. no iommu_groups folder). */
  problems: TopologyProblem[];
}

export type TopologyEntity = 'device' | 'group' | 'unit';

/** One difference between two snapshots. */
export interface TopologyChange {
  kind: 'added' | 'removed' | 'changed';
  entity: TopologyEntity;
  /** Device address, group id or unit name. */
  id: string | number;
  /** For 'changed': the top-level fields that differ, e.g. ['driver', 'vfioCdev']. */
  fields?: string[];
}

/** What the watcher emits: the changes and the snapshot they lead to. */
export interface TopologyUpdate {
  /** Increments per update from one watcher. */
  seq: number;
  changes: TopologyChange[];
  topology: HostTopology;
}
