// A vEVENTQ source: the kernel objects a VMM creates to receive a vIOMMU's
// events, read through the native event-queue engine (no per-event JS).
//   mock (the iommufd selftest, the order of its iommufd_viommu tests):
//     IOAS_ALLOC → MOCK_DOMAIN → HWPT_ALLOC NEST_PARENT → VIOMMU_ALLOC
//     (selftest type) → VEVENTQ_ALLOC (selftest type, depth) → VDEVICE_ALLOC
//     (virt id) → HWPT_ALLOC nested on the vIOMMU → MOCK_DOMAIN_REPLACE to it;
//     events come from IOMMU_TEST_OP_TRIGGER_VEVENT (virt_id = the vDEVICE's).
//   device (a VFIO cdev): bind → IOAS_ALLOC → HWPT_ALLOC NEST_PARENT →
//     VIOMMU_ALLOC of the type GET_HW_INFO names (ARM SMMUv3, Tegra241 CMDQV)
//     → VEVENTQ_ALLOC of that type → VDEVICE_ALLOC (virt id = the vSID).
// Kernels without the vIOMMU series fail VIOMMU_ALLOC with ENOTTY, which is
// how "too old" is detected (errors.ts names the version).
import { IommufdObjectGraph, objectKey, type IommufdObjects } from '../../common/iommufd-objects';
import { veventDataBytes, veventTypeName, VeventType } from '../../common/vevent-decode';
import type { NativeAddon, NativeEventQueue } from '../native/addon-types';
import { explain, IommuscopeError, type ErrorContext } from '../errors';
import { teardown } from './fault-source';
import { deviceHwInfo } from './device-hw-info';
import { HwptFlag, HWPT_DATA_SELFTEST, SelftestType, selftestHwptData } from './uapi-constants';

/** The kernel's VEVENTQ_MAX_DEPTH (drivers/iommu/iommufd/eventq.c). */
export const VEVENTQ_MAX_DEPTH = 1 << 19;
export const VEVENTQ_DEFAULT_DEPTH = 1024;
/** MOCK_APERTURE_START of the selftest, and one page for its HW queue. */
const MOCK_APERTURE = 0x1000000n;
const HW_QUEUE_BYTES = 0x1000n;

/** IOMMU_HW_INFO_TYPE_* → the vIOMMU and vEVENTQ types its driver offers. */
const UNIT_TYPES: Record<number, { viommu: number; veventq: number; name: string }> = {
  2: { viommu: 1, veventq: VeventType.ArmSmmuv3, name: 'ARM SMMUv3' },
  3: { viommu: 2, veventq: VeventType.Tegra241Cmdqv, name: 'Tegra241 CMDQV' },
};
const HW_INFO_NAMES: Record<number, string> = { 1: 'Intel VT-d', 4: 'AMD IOMMU' };

export interface VeventSourceOptions {
  /** A VFIO device cdev; absent: the selftest mock device. */
  device?: string;
  depth: number;
  /** The vDEVICE's virtual id (vSID for SMMUv3). */
  virtId: bigint;
  iommuPath?: string;
  flushIntervalMs?: number;
  log?: (step: string) => void;
}

interface Ids {
  ioas: number;
  dev: number;
  parent: number;
  viommu: number;
  veventq: number;
  vdevice: number;
  /** mock only */
  stdev?: number;
  /** mock only: a selftest HW queue (index 0) on one mapped page, when the kernel has them. */
  hwQueue?: { id: number; iova: bigint; length: bigint };
  mockHwpt?: number;
  nested?: number;
}

export class VeventSource {
  readonly queue: NativeEventQueue;
  private readonly graph: IommufdObjectGraph;
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    private readonly fds: { iommufd: number; device?: number },
    readonly ids: Ids,
    /** IOMMU_VEVENTQ_TYPE_* of the queue. */
    readonly eventType: number,
    readonly viommuType: number,
    readonly depth: number,
    readonly virtId: bigint,
    queue: NativeEventQueue,
    deviceLabel: string,
  ) {
    this.queue = queue;
    this.graph = new IommufdObjectGraph(fds.device === undefined ? 'mock' : 'iommufd');
    this.buildGraph(deviceLabel);
  }

  get kind(): 'mock' | 'device' {
    return this.fds.device === undefined ? 'mock' : 'device';
  }

  get canTrigger(): boolean {
    return this.kind === 'mock';
  }

  static open(addon: NativeAddon, opts: VeventSourceOptions): VeventSource {
    const log = opts.log ?? (() => {});
    const path = opts.iommuPath ?? '/dev/iommu';
    const step = <T>(what: string, ctx: ErrorContext, subject: string, fn: () => T): T => {
      try {
        const r = fn();
        log(
          `${what}: ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)) ?? 'ok'}`,
        );
        return r;
      } catch (err) {
        throw explain(err, ctx, subject);
      }
    };
    const cleanup: [string, () => void][] = [];
    try {
      const fd = step('open /dev/iommu', 'open-iommufd', path, () => addon.openIommufd(path));
      // Closing the iommufd destroys every object made on it.
      cleanup.unshift(['close iommufd', () => addon.close(fd)]);
      const ioas = step('IOAS_ALLOC', 'ioas-alloc', '', () => addon.ioasAlloc(fd));
      let devId: number;
      let devFd: number | undefined;
      let mock: { stdevId: number; hwptId: number } | undefined;
      let types: { viommu: number; veventq: number } = {
        viommu: SelftestType.viommu,
        veventq: SelftestType.veventq,
      };
      const subject = opts.device ?? 'the mock device';
      if (opts.device === undefined) {
        if (!addon.testCmdAvailable(fd))
          throw explain(
            { code: 'ENOTTY', message: 'IOMMU_TEST_CMD is not available' },
            'mock-test-cmd',
          );
        const md = step('MOCK_DOMAIN', 'mock-domain', '', () => addon.mockDomain(fd, ioas));
        devId = md.idevId;
        mock = md;
      } else {
        const dev = opts.device;
        const dfd = step(`open ${dev}`, 'open-vfio', dev, () => addon.openVfioDevice(dev));
        devFd = dfd;
        cleanup.unshift(['close device', () => addon.close(dfd)]);
        devId = step('VFIO_DEVICE_BIND_IOMMUFD', 'vfio-bind', dev, () =>
          addon.vfioBindIommufd(dfd, fd),
        );
        const hw = step('IOMMU_GET_HW_INFO', 'hwpt-alloc', dev, () => addon.getHwInfo(fd, devId));
        const unit = UNIT_TYPES[hw.dataType];
        const unitName = unit?.name ?? HW_INFO_NAMES[hw.dataType] ?? `info type ${hw.dataType}`;
        log(`the device's IOMMU: ${unitName} (IOMMU_GET_HW_INFO type ${hw.dataType})`);
        // Units without a vIOMMU type in the uAPI are still asked (SMMUv3's type): the
        // kernel's refusal is the answer, named with the unit the device is behind.
        types = unit ?? { viommu: 1, veventq: VeventType.ArmSmmuv3 };
        if (!unit) {
          const wrap = (err: unknown): never => {
            const e = err instanceof IommuscopeError ? err : explain(err, 'viommu-alloc', dev);
            throw new IommuscopeError(
              e.context,
              e.code,
              `${e.cause_}. ${dev} is behind ${unitName} (IOMMU_GET_HW_INFO type ${hw.dataType}), ` +
                'which has no vIOMMU/vEVENTQ type in the uAPI (ARM SMMUv3 and Tegra241 CMDQV have)',
              e.fix,
              e.detail,
            );
          };
          try {
            return VeventSource.build(
              addon,
              fd,
              ioas,
              devId,
              devFd,
              undefined,
              types,
              opts,
              step,
              subject,
              cleanup,
            );
          } catch (err) {
            wrap(err);
          }
        }
      }
      return VeventSource.build(
        addon,
        fd,
        ioas,
        devId,
        devFd,
        mock,
        types,
        opts,
        step,
        subject,
        cleanup,
      );
    } catch (err) {
      teardown(cleanup);
      throw err instanceof IommuscopeError ? err : explain(err, 'viommu-alloc');
    }
  }

  private static build(
    addon: NativeAddon,
    fd: number,
    ioas: number,
    devId: number,
    devFd: number | undefined,
    mock: { stdevId: number; hwptId: number } | undefined,
    types: { viommu: number; veventq: number },
    opts: VeventSourceOptions,
    step: <T>(what: string, ctx: ErrorContext, subject: string, fn: () => T) => T,
    subject: string,
    cleanup: [string, () => void][],
  ): VeventSource {
    const parent = step('HWPT_ALLOC nest-parent', 'nest-parent-alloc', subject, () =>
      addon.hwptAlloc(fd, { devId, ptId: ioas, flags: HwptFlag.NestParent }),
    );
    const viommu = step('VIOMMU_ALLOC', 'viommu-alloc', subject, () =>
      addon.viommuAlloc(fd, { devId, hwptId: parent, type: types.viommu }),
    ).viommuId;
    const q = step(`VEVENTQ_ALLOC depth ${opts.depth}`, 'veventq-alloc', subject, () =>
      addon.veventqAlloc(fd, viommu, types.veventq, opts.depth),
    );
    cleanup.unshift(['close vEVENTQ fd', () => addon.close(q.veventqFd)]);
    const vdevice = step(
      `VDEVICE_ALLOC virt id 0x${opts.virtId.toString(16)}`,
      'vdevice-alloc',
      subject,
      () => addon.vdeviceAlloc(fd, viommu, devId, opts.virtId),
    );
    let nested: number | undefined;
    let hwQueue: Ids['hwQueue'];
    if (mock) {
      // A HW queue (kernel 6.17+) completes the picture; optional: older kernels refuse it.
      try {
        const iova = addon.ioasMapAnon(fd, ioas, HW_QUEUE_BYTES, MOCK_APERTURE, 6);
        const id = addon.hwQueueAlloc(fd, {
          viommuId: viommu,
          type: SelftestType.hwQueue,
          index: 0,
          iova,
          length: HW_QUEUE_BYTES,
        });
        hwQueue = { id, iova, length: HW_QUEUE_BYTES };
        opts.log?.(`HW_QUEUE_ALLOC index 0 at 0x${iova.toString(16)}: ${id}`);
      } catch (err) {
        opts.log?.(
          `HW_QUEUE_ALLOC skipped (${err instanceof Error ? err.message : String(err)}): the vEVENTQ does not need it`,
        );
      }
      // The selftest reports vEVENTs for a device attached to a nested HWPT on the vIOMMU.
      nested = step('HWPT_ALLOC nested on the vIOMMU', 'vevent-attach', subject, () =>
        addon.hwptAlloc(fd, {
          devId,
          ptId: viommu,
          flags: 0,
          dataType: HWPT_DATA_SELFTEST,
          data: selftestHwptData(),
        }),
      );
      const n = nested;
      step('MOCK_DOMAIN_REPLACE', 'vevent-attach', subject, () =>
        addon.mockDomainReplace(fd, mock.stdevId, n),
      );
    }
    const dataBytes = veventDataBytes(types.veventq) ?? 0;
    const queue = addon.createEventQueue({
      kind: 'veventq',
      fd: q.veventqFd,
      dataBytes,
      ...(opts.flushIntervalMs !== undefined ? { flushIntervalMs: opts.flushIntervalMs } : {}),
    });
    cleanup.shift(); // the queue owns the vEVENTQ fd now
    const ids: Ids = {
      ioas,
      dev: devId,
      parent,
      viommu,
      veventq: q.veventqId,
      vdevice,
      ...(mock ? { stdev: mock.stdevId, mockHwpt: mock.hwptId } : {}),
      ...(nested !== undefined ? { nested } : {}),
      ...(hwQueue ? { hwQueue } : {}),
    };
    return new VeventSource(
      addon,
      { iommufd: fd, ...(devFd !== undefined ? { device: devFd } : {}) },
      ids,
      types.veventq,
      types.viommu,
      opts.depth,
      opts.virtId,
      queue,
      opts.device ?? 'iommufd selftest mock device',
    );
  }

  /** One selftest vEVENT (mock only); throws an IommuscopeError. */
  trigger(): void {
    try {
      this.addon.triggerVevent(this.fds.iommufd, this.ids.dev);
    } catch (err) {
      throw explain(err, 'trigger-vevent');
    }
  }

  /** The objects with the queue's live read/lost counts. */
  objects(): IommufdObjects {
    const t = this.queue.totals(); // still answers after close: the final counts
    this.graph.setVeventqCounts(objectKey.veventq(this.ids.veventq), t.events, t.lost);
    return this.graph.snapshot();
  }

  /** Stop the reader, close the FDs (destroying every object). Never throws. */
  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const steps: [string, () => void][] = [['close the vEVENTQ', () => this.queue.close()]];
    if (this.fds.device !== undefined) {
      const d = this.fds.device;
      steps.push(['close device', () => this.addon.close(d)]);
    }
    steps.push(['close iommufd', () => this.addon.close(this.fds.iommufd)]);
    const failures = teardown(steps);
    this.objects();
    for (const n of this.graph.snapshot().nodes) this.graph.setState(n.key, 'destroyed');
    return failures;
  }

  private buildGraph(deviceLabel: string): void {
    const g = this.graph;
    const { ioas, dev, parent, viommu, veventq, vdevice, mockHwpt, nested } = this.ids;
    const mock = this.kind === 'mock';
    const hq = this.ids.hwQueue;
    const mappings = hq
      ? [{ iova: `0x${hq.iova.toString(16)}`, length: `0x${hq.length.toString(16)}` }]
      : [];
    g.add({ type: 'ioas', key: objectKey.ioas(ioas), id: ioas, state: 'live', mappings });
    const hwpt = (id: number, kind: 'paging' | 'nest-parent' | 'nested', dataType = 0) =>
      g.add({
        type: 'hwpt',
        key: objectKey.hwpt(id),
        id,
        state: 'live',
        kind,
        iopf: false,
        dataType,
      });
    hwpt(parent, 'nest-parent');
    g.link(objectKey.hwpt(parent), objectKey.ioas(ioas), 'parent');
    if (mockHwpt !== undefined) {
      hwpt(mockHwpt, 'paging');
      g.link(objectKey.hwpt(mockHwpt), objectKey.ioas(ioas), 'parent');
    }
    g.add({
      type: 'device',
      key: objectKey.device(dev),
      id: dev,
      state: 'live',
      label: deviceLabel,
      origin: mock ? 'mock' : 'vfio',
      hwInfo: deviceHwInfo(this.addon, this.fds.iommufd, dev),
    });
    g.add({
      type: 'viommu',
      key: objectKey.viommu(viommu),
      id: viommu,
      state: 'live',
      viommuType: this.viommuType,
      typeName: viommuTypeName(this.viommuType),
    });
    g.link(objectKey.viommu(viommu), objectKey.hwpt(parent), 'parent');
    g.add({
      type: 'veventq',
      key: objectKey.veventq(veventq),
      id: veventq,
      state: 'live',
      veventType: this.eventType,
      typeName: veventTypeName(this.eventType),
      depth: this.depth,
      read: 0,
      lost: 0,
    });
    g.link(objectKey.veventq(veventq), objectKey.viommu(viommu), 'parent');
    g.add({
      type: 'vdevice',
      key: objectKey.vdevice(vdevice),
      id: vdevice,
      state: 'live',
      virtId: this.virtId.toString(),
    });
    g.link(objectKey.vdevice(vdevice), objectKey.viommu(viommu), 'parent');
    g.link(objectKey.vdevice(vdevice), objectKey.device(dev), 'vdevice');
    if (nested !== undefined) {
      hwpt(nested, 'nested', HWPT_DATA_SELFTEST);
      g.link(objectKey.hwpt(nested), objectKey.viommu(viommu), 'parent');
      g.link(objectKey.device(dev), objectKey.hwpt(nested), 'attached');
    }
    if (hq) {
      g.add({
        type: 'hwqueue',
        key: objectKey.hwqueue(hq.id),
        id: hq.id,
        state: 'live',
        queueType: SelftestType.hwQueue,
        typeName: 'selftest',
        index: 0,
        base: `0x${hq.iova.toString(16)}`,
        length: `0x${hq.length.toString(16)}`,
      });
      g.link(objectKey.hwqueue(hq.id), objectKey.viommu(viommu), 'parent');
    }
    // A VFIO device stays unattached: its nested HWPT needs the guest's STE, which a VMM owns.
  }
}

export function viommuTypeName(type: number): string {
  if (type === 1) return 'ARM SMMUv3';
  if (type === 2) return 'Tegra241 CMDQV';
  if (type === SelftestType.viommu) return 'selftest';
  return `type 0x${(type >>> 0).toString(16)}`;
}
