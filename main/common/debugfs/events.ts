// What the activity core streams from Intel debugfs (CLI NDJSON, dashboard):
// a unit's decoded registers and queues, a device's live PASIDs with its
// page tables' summary, and a debugfs file's read state. Each is emitted
// when it changed since the last one for the same unit, device or file.
import type { Descriptor } from './invalidation-queue';
import type { PasidEntry } from './pasid-table';
import type { LatencyRow } from './perf-latency';
import type { DebugfsProblem } from './problems';
import type { RegsetUnit } from './regset';
import type { Mapping } from './translation-struct';

/** `{"type":"debugfs-unit",...}`: iommu_regset + invalidation_queue + dmar_perf_latency of one unit. */
export interface DebugfsUnit {
  type: 'debugfs-unit';
  unit: string;
  /** Wall-clock ms of the read. */
  time: number;
  /** Register base address. */
  base: string;
  /** name -> 0x value, as iommu_regset lists them. */
  registers: Record<string, string>;
  fault: RegsetUnit['fault'];
  status: RegsetUnit['status'];
  faultEvent: RegsetUnit['faultEvent'];
  pageRequestEvent: RegsetUnit['pageRequestEvent'];
  pageRequestQueue: RegsetUnit['pageRequestQueue'];
  /** Head/tail from the registers, descriptors from invalidation_queue (null: not read). */
  invalidationQueue:
    | (NonNullable<RegsetUnit['invalidationQueue']> & {
        descriptorBits: 128 | 256 | null;
        byType: Record<string, number>;
        /** Newest first, at most 8. */
        recent: Descriptor[];
      })
    | null;
  /** dmar_perf_latency rows (empty: no latency type enabled; null: file not read). */
  latency: LatencyRow[] | null;
}

/** One PASID table entry of a device, with its page table when the device is watched. */
export interface DevicePasid extends PasidEntry {
  /** From <bdf>[/<pasid>]/domain_translation_struct: null when not read. */
  translation: {
    root: string;
    levels: string[];
    mappings: number;
    /** The first mappings (at most 16), lowest IOVA first. */
    first: Mapping[];
    /** The helper cut the file at its size bound: `mappings` is a lower bound. */
    truncated: boolean;
  } | null;
}

/** `{"type":"device-pasids",...}`: which PASIDs of a device are live (present), from dmar_translation_struct. */
export interface DevicePasids {
  type: 'device-pasids';
  device: string;
  unit: string;
  group: number | null;
  driver: string | null;
  time: number;
  contextPresent: boolean;
  /** Scalable mode: the present PASID entries; legacy mode: empty. */
  pasids: DevicePasid[];
  /** Watched: the helper reads this device's page tables every debugfs interval. */
  watched: boolean;
}

/** `{"type":"debugfs-file",...}`: a file could not be read (or could again), or had problems. */
export interface DebugfsFile {
  type: 'debugfs-file';
  /** Path below /sys/kernel/debug/iommu/intel, or 'watch BDF' for a refused watch. */
  file: string;
  ok: boolean;
  /** errno name when not ok ('ENOENT', 'EACCES', ...). */
  error: string | null;
  detail: string;
  truncated: boolean;
  problemCount: number;
  problems: DebugfsProblem[];
  time: number;
}

export type DebugfsActivity = DebugfsUnit | DevicePasids | DebugfsFile;
