// Simulated PRI devices: the native simulator emulates the kernel fault FD
// (whole groups per read, cookies, EINVAL on unknown cookie or bad code,
// INVALID on detach), so everything above the queue runs unchanged.
import { IommufdObjectGraph, objectKey } from '../../common/iommufd-objects';
import type { InjectSpec } from '../../common/inject';
import type { NativeAddon, NativeFaultQueue } from '../native/addon-types';
import { teardown, type FaultSource, type QueueTuning } from './fault-source';

export interface SimSourceOptions extends QueueTuning {
  /** PRI credit: groups queued or read-and-unanswered before the devices stall (default 512). */
  outstandingLimit?: number;
}

// Made-up object ids so the topology view shows the same shape as mock.
const SIM_IOAS = 1;
const SIM_HWPT = 2;
const SIM_FAULT = 3;
/**
 * PASID attachments shown per simulated device: the injection's PASIDs are
 * attached to the iopf HWPT as the kernel requires (IOMMU_HWPT_ATTACH with a
 * PASID) before faults can carry them; past this many the graph would be
 * unreadable, so only the first ones appear (the faults still use them all).
 */
export const SIM_PASID_NODES_PER_DEVICE = 64;

export class SimSource implements FaultSource {
  readonly kind = 'sim' as const;
  readonly canInject = true;
  readonly queue: NativeFaultQueue;
  private readonly graph = new IommufdObjectGraph('sim');
  private devices = 0;
  /** PASID attachments in the graph, by device. */
  private readonly pasids = new Map<number, Set<number>>();
  private closed = false;

  constructor(addon: NativeAddon, opts: SimSourceOptions = {}) {
    this.queue = addon.createFaultQueue({ kind: 'sim', ...opts });
    const g = this.graph;
    g.add({
      type: 'ioas',
      key: objectKey.ioas(SIM_IOAS),
      id: SIM_IOAS,
      state: 'live',
      mappings: [],
    });
    g.add({
      type: 'hwpt',
      key: objectKey.hwpt(SIM_HWPT),
      id: SIM_HWPT,
      state: 'live',
      kind: 'paging',
      iopf: true,
      dataType: 0,
    });
    g.add({ type: 'fault', key: objectKey.fault(SIM_FAULT), id: SIM_FAULT, state: 'live' });
    g.link(objectKey.hwpt(SIM_HWPT), objectKey.ioas(SIM_IOAS), 'parent');
    g.link(objectKey.hwpt(SIM_HWPT), objectKey.fault(SIM_FAULT), 'fault');
  }

  objects() {
    return this.graph.snapshot();
  }

  checkInject(spec: InjectSpec): void {
    // Every simulated device the injection uses appears in the topology.
    for (let dev = this.devices + 1; dev <= spec.devices; dev++) {
      const key = objectKey.device(dev);
      this.graph.add({
        type: 'device',
        key,
        id: dev,
        state: 'live',
        label: `sim device ${dev}`,
        origin: 'sim',
      });
      this.graph.link(key, objectKey.hwpt(SIM_HWPT), 'attached');
    }
    this.devices = Math.max(this.devices, spec.devices);
    if (spec.pasidMax > 0) this.attachPasids(spec);
  }

  /** The injection's PASIDs, attached to the iopf HWPT on every device it uses. */
  private attachPasids(spec: InjectSpec): void {
    const first = Math.max(1, spec.pasidMin);
    for (let dev = 1; dev <= spec.devices; dev++) {
      const have = this.pasids.get(dev) ?? new Set<number>();
      this.pasids.set(dev, have);
      for (let p = first; p <= spec.pasidMax; p++) {
        if (have.size >= SIM_PASID_NODES_PER_DEVICE) break;
        if (have.has(p)) continue;
        have.add(p);
        const key = objectKey.pasid(dev, p);
        this.graph.add({ type: 'pasid', key, devId: dev, pasid: p, state: 'live' });
        this.graph.link(objectKey.device(dev), key, 'pasid');
        this.graph.link(key, objectKey.hwpt(SIM_HWPT), 'attached');
      }
    }
  }

  detach(): number {
    const n = this.queue.simDetach();
    for (let dev = 1; dev <= this.devices; dev++)
      this.graph.unlink(objectKey.device(dev), 'attached');
    for (const [dev, set] of this.pasids) {
      for (const p of set) this.graph.unlink(objectKey.pasid(dev, p), 'attached');
    }
    return n;
  }

  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const failures = teardown([['close the simulated queue', () => this.queue.close()]]);
    for (const key of [
      objectKey.hwpt(SIM_HWPT),
      objectKey.fault(SIM_FAULT),
      objectKey.ioas(SIM_IOAS),
    ]) {
      this.graph.setState(key, 'destroyed');
    }
    return failures;
  }
}
