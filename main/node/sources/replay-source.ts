// The replay source: a recording behind the FaultSource interface, so the
// session, the dashboard and the CLI run on it as on sim/mock/iommufd.
// Nothing here opens /dev/iommu or writes to a kernel.
import type { IommufdObjects } from '../../common/iommufd-objects';
import type { FaultSource } from './fault-source';
import { ReplayQueue, type ReplayOptions } from '../recording/replay-queue';

export class ReplaySource implements FaultSource {
  readonly kind = 'replay' as const;
  readonly canInject = false;
  readonly queue: ReplayQueue;

  constructor(
    readonly file: string,
    opts: ReplayOptions = {},
  ) {
    this.queue = new ReplayQueue(file, opts);
  }

  /** The recorded session's objects when it recorded them, else an empty graph of its source. */
  objects(): IommufdObjects {
    const session = this.queue.session();
    const recorded = session?.extra?.objects as IommufdObjects | undefined;
    if (recorded) return recorded;
    const src = session?.source;
    const source = src === 'mock' || src === 'iommufd' ? src : 'sim';
    return { source, nodes: [], edges: [] };
  }

  checkInject(): void {
    throw new Error('a replay cannot inject page requests: it plays the recorded ones');
  }

  detach(): number {
    return 0;
  }

  close(): string[] {
    this.queue.close();
    return [];
  }
}
