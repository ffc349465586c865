// A real device: VFIO device cdev bound to our iommufd, an IOAS (optionally
// with anonymous memory mapped), a plain attach to the IOAS (proves bind and
// DMA translation work), then an IOPF-capable HWPT with a fault queue attached
// in its place, to the device or to one PASID of it.
import { IommufdObjectGraph, objectKey } from '../../common/iommufd-objects';
import type { InjectSpec } from '../../common/inject';
import type { NativeAddon, NativeFaultQueue } from '../native/addon-types';
import { explain, IommuscopeError, type ErrorContext } from '../errors';
import { teardown, type FaultSource, type QueueTuning } from './fault-source';
import { deviceHwInfo } from './device-hw-info';
import { checkVfioPasidAttach } from './vfio-pasid';
import { HwptFlag, IoasMapFlag } from './uapi-constants';

export interface IommufdSourceOptions extends QueueTuning {
  /** /dev/vfio/devices/vfioN */
  device: string;
  /** Attach to this PASID of the device instead of the whole device. */
  pasid?: number;
  /** Bytes of anonymous memory to map into the IOAS (0 = none); used by the 'map' action. */
  mapBytes?: number;
  iommuPath?: string;
  log?: (step: string) => void;
}

export class IommufdSource implements FaultSource {
  readonly kind = 'iommufd' as const;
  readonly canInject = false;
  private readonly graph = new IommufdObjectGraph('iommufd');
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    private readonly fds: { iommufd: number; device: number },
    private readonly ids: { dev: number; ioas: number; hwpt: number; fault: number },
    private readonly pasid: number | undefined,
    readonly queue: NativeFaultQueue,
    graph: (g: IommufdObjectGraph) => void,
  ) {
    graph(this.graph);
  }

  static open(addon: NativeAddon, opts: IommufdSourceOptions): IommufdSource {
    const log = opts.log ?? (() => {});
    const iommuPath = opts.iommuPath ?? '/dev/iommu';
    const pasid = opts.pasid;
    const where = pasid === undefined ? opts.device : `PASID ${pasid} of ${opts.device}`;
    const cleanup: [string, () => void][] = [];
    const step = <T>(what: string, ctx: ErrorContext, subject: string, fn: () => T): T => {
      try {
        const r = fn();
        log(
          `${what}: ${typeof r === 'bigint' ? `0x${r.toString(16)}` : (JSON.stringify(r) ?? 'ok')}`,
        );
        return r;
      } catch (err) {
        throw explain(err, ctx, subject);
      }
    };
    try {
      const fd = step('open /dev/iommu', 'open-iommufd', iommuPath, () =>
        addon.openIommufd(iommuPath),
      );
      cleanup.unshift(['close iommufd', () => addon.close(fd)]);
      const devFd = step(`open ${opts.device}`, 'open-vfio', opts.device, () =>
        addon.openVfioDevice(opts.device),
      );
      cleanup.unshift(['close device', () => addon.close(devFd)]);
      const devId = step('VFIO_DEVICE_BIND_IOMMUFD', 'vfio-bind', opts.device, () =>
        addon.vfioBindIommufd(devFd, fd),
      );
      const ioas = step('IOAS_ALLOC', 'ioas-alloc', '', () => addon.ioasAlloc(fd));
      const mappings: { iova: string; length: string }[] = [];
      if (opts.mapBytes) {
        const len = BigInt(opts.mapBytes);
        const iova = step('IOAS_MAP anonymous memory', 'ioas-map', `${opts.mapBytes} bytes`, () =>
          addon.ioasMapAnon(fd, ioas, len, null, IoasMapFlag.Readable | IoasMapFlag.Writeable),
        );
        mappings.push({ iova: `0x${iova.toString(16)}`, length: `0x${len.toString(16)}` });
      }
      if (pasid !== undefined)
        checkVfioPasidAttach(addon, { iommufd: fd, devFd, devId }, pasid, opts.device, log);
      // A plain attach first: shows that binding and translation work even when IOPF cannot.
      const autoHwpt = step(
        `attach ${where} to IOAS ${ioas}`,
        pasid === undefined ? 'attach' : 'pasid-attach',
        where,
        () => addon.vfioAttachPt(devFd, ioas, pasid),
      );
      cleanup.unshift(['detach', () => addon.vfioDetachPt(devFd, pasid)]);
      const fq = step('FAULT_QUEUE_ALLOC', 'fault-queue-alloc', '', () =>
        addon.faultQueueAlloc(fd),
      );
      cleanup.unshift(['close fault fd', () => addon.close(fq.faultFd)]);
      const hwpt = step('HWPT_ALLOC IOPF-capable', 'iopf-hwpt-alloc', opts.device, () =>
        addon.hwptAlloc(fd, {
          devId,
          ptId: ioas,
          // A PASID can only be attached to a PASID-compatible domain (7.3).
          flags: HwptFlag.FaultIdValid | (pasid === undefined ? 0 : HwptFlag.Pasid),
          faultId: fq.faultId,
        }),
      );
      step(`attach ${where} to IOPF HWPT ${hwpt}`, 'iopf-attach', where, () =>
        addon.vfioAttachPt(devFd, hwpt, pasid),
      );
      const queue = addon.createFaultQueue({
        kind: 'kernel',
        faultFd: fq.faultFd,
        iommufd: fd,
        ioasId: ioas,
        ...(opts.jsBufferRecords !== undefined ? { jsBufferRecords: opts.jsBufferRecords } : {}),
        ...(opts.flushIntervalMs !== undefined ? { flushIntervalMs: opts.flushIntervalMs } : {}),
      });
      return new IommufdSource(
        addon,
        { iommufd: fd, device: devFd },
        { dev: devId, ioas, hwpt, fault: fq.faultId },
        pasid,
        queue,
        (g) => {
          g.add({ type: 'ioas', key: objectKey.ioas(ioas), id: ioas, state: 'live', mappings });
          if (autoHwpt !== ioas) {
            g.add({
              type: 'hwpt',
              key: objectKey.hwpt(autoHwpt),
              id: autoHwpt,
              state: 'live',
              kind: 'paging',
              iopf: false,
              dataType: 0,
            });
            g.link(objectKey.hwpt(autoHwpt), objectKey.ioas(ioas), 'parent');
          }
          g.add({
            type: 'hwpt',
            key: objectKey.hwpt(hwpt),
            id: hwpt,
            state: 'live',
            kind: 'paging',
            iopf: true,
            dataType: 0,
          });
          g.add({ type: 'fault', key: objectKey.fault(fq.faultId), id: fq.faultId, state: 'live' });
          g.add({
            type: 'device',
            key: objectKey.device(devId),
            id: devId,
            state: 'live',
            label: opts.device,
            origin: 'vfio',
            hwInfo: deviceHwInfo(addon, fd, devId),
          });
          g.link(objectKey.hwpt(hwpt), objectKey.ioas(ioas), 'parent');
          g.link(objectKey.hwpt(hwpt), objectKey.fault(fq.faultId), 'fault');
          if (pasid === undefined) {
            g.link(objectKey.device(devId), objectKey.hwpt(hwpt), 'attached');
          } else {
            const pk = objectKey.pasid(devId, pasid);
            g.add({ type: 'pasid', key: pk, devId, pasid, state: 'live' });
            g.link(objectKey.device(devId), pk, 'pasid');
            g.link(pk, objectKey.hwpt(hwpt), 'attached');
          }
        },
      );
    } catch (err) {
      teardown(cleanup);
      throw err instanceof IommuscopeError ? err : explain(err, 'attach', where);
    }
  }

  objects() {
    return this.graph.snapshot();
  }

  checkInject(_spec: InjectSpec): void {
    throw new IommuscopeError(
      'inject',
      'EINVAL',
      'a real device cannot be made to fault from here',
      'drop --inject (use --source mock or --source sim to inject)',
    );
  }

  /**
   * Replace the IOPF-capable HWPT with the plain IOAS attach: the kernel
   * answers every pending group INVALID and the queue records them as
   * answered by the kernel, so nothing is answered twice.
   */
  detach(): number {
    const where = this.pasid === undefined ? 'the device' : `PASID ${this.pasid}`;
    try {
      this.addon.vfioAttachPt(this.fds.device, this.ids.ioas, this.pasid);
    } catch (err) {
      throw explain(err, 'attach', where);
    }
    return this.queue.kernelDetached();
  }

  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const failures = teardown([
      ['close the fault queue', () => this.queue.close()],
      ['detach', () => this.addon.vfioDetachPt(this.fds.device, this.pasid)],
      ['destroy the IOPF HWPT', () => this.addon.destroy(this.fds.iommufd, this.ids.hwpt)],
      ['close the device', () => this.addon.close(this.fds.device)],
      ['close iommufd', () => this.addon.close(this.fds.iommufd)],
    ]);
    for (const n of this.graph.snapshot().nodes) this.graph.setState(n.key, 'destroyed');
    return failures;
  }
}
