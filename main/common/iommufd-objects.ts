// Serialisable description of the iommufd objects a fault session created and
// how they connect (the dashboard's Topology view draws exactly this).
// Pure data: numbers and strings only, so it crosses IPC and JSON unchanged.
//
// Every node has a stable `key` ('ioas:2', 'hwpt:5', 'dev:1', 'pasid:1:7',
// 'fault:4'); edges refer to keys. `id` is the iommufd object id (for the
// simulator, ids the simulator made up, marked by `source: 'sim'`).

export type FaultSourceKind = 'sim' | 'mock' | 'iommufd' | 'replay';

/** How an HWPT was allocated. */
export type HwptKind = 'paging' | 'nest-parent' | 'nested';

/** Lifecycle of one object within the session. */
export type ObjectState = 'live' | 'destroyed' | 'failed';

export interface IoasNode {
  type: 'ioas';
  key: string;
  id: number;
  state: ObjectState;
  /** Areas mapped by the session, hex strings (no bigint across IPC). */
  mappings: { iova: string; length: string }[];
}

export interface HwptNode {
  type: 'hwpt';
  key: string;
  id: number;
  state: ObjectState;
  kind: HwptKind;
  /** True when allocated with IOMMU_HWPT_FAULT_ID_VALID (faults go to a queue). */
  iopf: boolean;
  /** IOMMU_HWPT_DATA_* of a nested HWPT (0xdead for the selftest), else 0. */
  dataType: number;
}

/** IOMMU_GET_HW_INFO of a device, decoded (main/common/hw-info.ts), compact for the details pane. */
export interface DeviceHwInfo {
  /** 'Intel VT-d', 'ARM SMMUv3', 'iommufd selftest', ... */
  type: string;
  /** 0: the device or its IOMMU has no PASID support. */
  maxPasidLog2: number;
  /** Names of the out_capabilities bits set: 'dirty-tracking', 'pasid-exec', 'pasid-priv', 'ats-not-supported'. */
  capabilities: string[];
  /** Every decoded field, key → value. */
  fields: Record<string, boolean | number | string>;
  notes: string[];
}

export interface DeviceNode {
  type: 'device';
  key: string;
  /** iommufd dev_id (VFIO bind result, mock idev_id, or sim device number). */
  id: number;
  state: ObjectState;
  /** Human label: '/dev/vfio/devices/vfio0', 'mock device', 'sim device 3'. */
  label: string;
  origin: 'vfio' | 'mock' | 'sim';
  /** Absent for the simulator; `{ error }` when the kernel call failed. */
  hwInfo?: DeviceHwInfo | { error: string };
}

export interface PasidNode {
  type: 'pasid';
  key: string;
  /** The device's dev_id. */
  devId: number;
  pasid: number;
  state: ObjectState;
}

export interface FaultQueueNode {
  type: 'fault';
  key: string;
  id: number;
  state: ObjectState;
}

/** IOMMU_VIOMMU_ALLOC: a virtual IOMMU on a nest-parent HWPT (kernel 6.13+). */
export interface ViommuNode {
  type: 'viommu';
  key: string;
  id: number;
  state: ObjectState;
  /** IOMMU_VIOMMU_TYPE_*: 1 ARM SMMUv3, 2 Tegra241 CMDQV, 0xdeadbeef selftest. */
  viommuType: number;
  /** 'ARM SMMUv3', 'Tegra241 CMDQV', 'selftest', or 'type 0x…' when unknown. */
  typeName: string;
}

/** IOMMU_VDEVICE_ALLOC: a device as the guest sees it behind a vIOMMU. */
export interface VdeviceNode {
  type: 'vdevice';
  key: string;
  id: number;
  state: ObjectState;
  /** The guest's ID for the device (e.g. SMMUv3 StreamID), a decimal string (64-bit). */
  virtId: string;
}

/** IOMMU_VEVENTQ_ALLOC: a queue of vEVENTs of one type reported by a vIOMMU (kernel 6.15+). */
export interface VeventqNode {
  type: 'veventq';
  key: string;
  id: number;
  state: ObjectState;
  /** IOMMU_VEVENTQ_TYPE_*: 1 ARM SMMUv3, 2 Tegra241 CMDQV, 0xbeefbeef selftest. */
  veventType: number;
  typeName: string;
  depth: number;
  /** vEVENTs read and lost (sequence gaps or LOST_EVENTS) so far. */
  read: number;
  lost: number;
}

/** IOMMU_HW_QUEUE_ALLOC: a hardware queue a vIOMMU runs from guest memory (kernel 6.17+). */
export interface HwQueueNode {
  type: 'hwqueue';
  key: string;
  id: number;
  state: ObjectState;
  /** IOMMU_HW_QUEUE_TYPE_*: 1 Tegra241 CMDQV, 0xdeadbeef selftest. */
  queueType: number;
  typeName: string;
  index: number;
  /** Guest address and length of the queue memory, hex strings. */
  base: string;
  length: string;
}

export type IommufdNode =
  | IoasNode
  | HwptNode
  | DeviceNode
  | PasidNode
  | FaultQueueNode
  | ViommuNode
  | VdeviceNode
  | VeventqNode
  | HwQueueNode;

/**
 * parent: HWPT → its IOAS, nest-parent HWPT or vIOMMU; vIOMMU → its nest-parent
 * HWPT; vDEVICE, vEVENTQ, HW queue → their vIOMMU. attached: device/PASID →
 * HWPT; pasid: device → one of its PASIDs; fault: HWPT → the fault queue it
 * reports to; vdevice: vDEVICE → the device it stands for.
 */
export type IommufdEdgeKind = 'parent' | 'attached' | 'pasid' | 'fault' | 'vdevice';

export interface IommufdEdge {
  from: string;
  to: string;
  kind: IommufdEdgeKind;
}

export interface IommufdObjects {
  source: FaultSourceKind;
  nodes: IommufdNode[];
  edges: IommufdEdge[];
}

export const objectKey = {
  ioas: (id: number): string => `ioas:${id}`,
  hwpt: (id: number): string => `hwpt:${id}`,
  device: (id: number): string => `dev:${id}`,
  pasid: (devId: number, pasid: number): string => `pasid:${devId}:${pasid}`,
  fault: (id: number): string => `fault:${id}`,
  viommu: (id: number): string => `viommu:${id}`,
  vdevice: (id: number): string => `vdev:${id}`,
  veventq: (id: number): string => `veventq:${id}`,
  hwqueue: (id: number): string => `hwq:${id}`,
};

/** Small mutable builder used by the sources; `snapshot()` returns a deep copy. */
export class IommufdObjectGraph {
  private readonly nodes = new Map<string, IommufdNode>();
  private edges: IommufdEdge[] = [];

  constructor(readonly source: FaultSourceKind) {}

  add(node: IommufdNode): void {
    this.nodes.set(node.key, node);
  }

  link(from: string, to: string, kind: IommufdEdgeKind): void {
    this.edges.push({ from, to, kind });
  }

  unlink(from: string, kind: IommufdEdgeKind): void {
    this.edges = this.edges.filter((e) => !(e.from === from && e.kind === kind));
  }

  setState(key: string, state: ObjectState): void {
    const node = this.nodes.get(key);
    if (node) node.state = state;
  }

  /** Live counters of a vEVENTQ (read and lost so far). */
  setVeventqCounts(key: string, read: number, lost: number): void {
    const node = this.nodes.get(key);
    if (node?.type === 'veventq') {
      node.read = read;
      node.lost = lost;
    }
  }

  snapshot(): IommufdObjects {
    return {
      source: this.source,
      nodes: [...this.nodes.values()].map(cloneNode),
      edges: this.edges.map((e) => ({ ...e })),
    };
  }
}

function cloneNode(n: IommufdNode): IommufdNode {
  if (n.type === 'ioas') return { ...n, mappings: n.mappings.map((m) => ({ ...m })) };
  if (n.type === 'device' && n.hwInfo) return { ...n, hwInfo: structuredClone(n.hwInfo) };
  return { ...n };
}
