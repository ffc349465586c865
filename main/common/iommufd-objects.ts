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

export type IommufdNode = IoasNode | HwptNode | DeviceNode | PasidNode | FaultQueueNode;

/**
 * parent: HWPT → its IOAS or nest-parent HWPT; attached: device/PASID → HWPT;
 * pasid: device → one of its PASIDs; fault: HWPT → the fault queue it reports to.
 */
export type IommufdEdgeKind = 'parent' | 'attached' | 'pasid' | 'fault';

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
