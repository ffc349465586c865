// One interface over the three places page requests come from:
//   sim      native simulator of PRI devices with the kernel fault FD semantics
//   mock     the kernel's iommufd selftest mock device (CONFIG_IOMMUFD_TEST),
//            faults injected with IOMMU_TEST_OP_TRIGGER_IOPF
//   iommufd  a real VFIO device cdev attached to an IOPF-capable HWPT
// The session only sees `queue` (the native reader) and the lifecycle below.
import type { FaultSourceKind, IommufdObjects } from '../../common/iommufd-objects';
import type { InjectSpec } from '../../common/inject';
import type { NativeFaultQueue } from '../native/addon-types';

/** 'replay': a recording played back (main/node/recording); never a kernel. */
export type SourceKind = FaultSourceKind | 'replay';

export interface FaultSource {
  readonly kind: SourceKind;
  readonly queue: NativeFaultQueue;
  /** True when inject() is supported (sim, mock). */
  readonly canInject: boolean;
  /** The iommufd objects this source created and how they connect. */
  objects(): IommufdObjects;
  /** Throws an IommuscopeError when this source cannot run `spec` (e.g. mock with group>1). */
  checkInject(spec: InjectSpec): void;
  /**
   * Take the fault-reporting domain away while groups may be pending, as the
   * kernel does on detach/replace: every pending group is answered INVALID by
   * the kernel side (reported by the queue with AnsweredBy.Kernel). Returns how
   * many groups were answered so. Faults are no longer delivered afterwards.
   */
  detach(): number;
  /**
   * Tear down after the session drained: stop the reader, close the fault FD,
   * detach and destroy the kernel objects, close the FDs. Idempotent; never
   * throws (failures are returned as messages).
   */
  close(): string[];
}

/** Options shared by every source. */
export interface QueueTuning {
  /** Max records buffered for JS before overflow is counted. */
  jsBufferRecords?: number;
  /** Minimum ms between batches to JS. */
  flushIntervalMs?: number;
}

/** Run each teardown step, collecting failures instead of stopping at the first. */
export function teardown(steps: [string, () => void][]): string[] {
  const failures: string[] = [];
  for (const [what, step] of steps) {
    try {
      step();
    } catch (err) {
      failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failures;
}
