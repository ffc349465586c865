// The structured activity events decoded from the kernel's IOMMU output:
// JSON-safe (64-bit values are hex strings), shared by the core, the CLI's
// NDJSON and the renderer.

export type IommuVendor = 'intel' | 'amd' | 'arm';
export type DmaAccess = 'read' | 'write' | 'exec' | 'unknown';

/** One line of a table-walk dump, decoded. */
export interface WalkStep {
  /** Which structure the line shows. */
  what: 'root' | 'context' | 'pasid-dir' | 'pasid-entry' | 'pte' | 'not-present' | 'dte' | 'other';
  /** Page-table level for 'pte' and 'not-present'. */
  level?: number;
  /** Index for 'pasid-entry' (qword of the 512-bit entry). */
  index?: number;
  /** Values as printed, hex. */
  values: string[];
  /** Decoded bits, e.g. { present: true, pgtt: 'second-level', did: 7 }. */
  decoded: Record<string, string | number | boolean>;
  /** The kernel's line (message part). */
  text: string;
}

export interface DmaFault {
  type: 'dma-fault';
  vendor: IommuVendor;
  /** IOMMU unit ('dmar0', 'ivhd0', 'arm-smmu-v3.0.auto') when the kernel names it. */
  unit: string | null;
  /** PCI address '0000:00:05.0', or the client device name (SMMU platform devices). */
  device: string | null;
  /** SMMUv3 StreamID, AMD device id (BDF as a 16-bit number). */
  streamId: number | null;
  pasid: number | null;
  addr: string;
  access: DmaAccess;
  /** Vendor reason code (Intel fault reason, SMMU event id, AMD event type), or null. */
  reason: number | null;
  /** Short name: 'PTE Read access is not set', 'IO_PAGE_FAULT', 'F_TRANSLATION'. */
  reasonName: string;
  /** The kernel's text for the reason. */
  reasonText: string;
  /** What it usually means. */
  meaning: string;
  walk: WalkStep[];
  /** Vendor extras: AMD domain and flags, SMMU class/stage/stall... */
  extra: Record<string, string | number | boolean>;
  /** Kernel time of the first line, microseconds since boot. */
  bootUs: number;
  /** kmsg sequence number of the first line. */
  seq: number;
  /** The kernel's lines, as logged (messages without the kmsg header). */
  raw: string[];
}

/** "N callbacks suppressed": faults the kernel's ratelimit did not print. */
export interface SuppressedMessages {
  type: 'suppressed';
  /** The ratelimited function ('dmar_fault') or device prefix. */
  source: string;
  vendor: IommuVendor | null;
  count: number;
  bootUs: number;
  seq: number;
}

/** A line from an IOMMU driver that is not a fault (kept, shown raw). */
export interface IommuMessage {
  type: 'iommu-message';
  vendor: IommuVendor;
  level: number;
  text: string;
  bootUs: number;
  seq: number;
}

/** A line that looked like IOMMU fault output but did not decode. */
export interface UnparsedLine {
  type: 'unparsed';
  source: 'kmsg' | 'interrupts' | 'trace';
  reason: string;
  raw: string;
  seq: number | null;
}

/** kmsg records lost between two reads (ring buffer overwrote them). */
export interface KmsgGap {
  type: 'kmsg-gap';
  from: number;
  to: number;
  missed: number;
}

export type KmsgActivity = DmaFault | SuppressedMessages | IommuMessage | UnparsedLine | KmsgGap;
