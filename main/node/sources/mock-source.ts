// The kernel's iommufd selftest mock device behind an IOPF-capable nested
// HWPT (the sequence of tools/testing/selftests/iommu, _test_cmd_trigger_iopf):
//   IOAS_ALLOC → MOCK_DOMAIN on the IOAS → HWPT_ALLOC NEST_PARENT →
//   FAULT_QUEUE_ALLOC → HWPT_ALLOC nested (data 0xdead, FAULT_ID_VALID) →
//   MOCK_DOMAIN_REPLACE to the nested HWPT.
// Injection is IOMMU_TEST_OP_TRIGGER_IOPF, one single-page group per request.
//
// With PASIDs (kernels whose selftest has PASID_ATTACH, e.g. 7.3; probed):
//   IOAS_ALLOC → MOCK_DOMAIN_FLAGS(PASID) → HWPT_ALLOC NEST_PARENT →
//   FAULT_QUEUE_ALLOC → HWPT_ALLOC nested (FAULT_ID_VALID | PASID) →
//   HWPT_ALLOC paging (PASID) → MOCK_DOMAIN_REPLACE the RID to that paging
//   HWPT (a PASID attach needs a PASID-compatible RID domain) →
//   PASID_ATTACH of each PASID to the nested IOPF HWPT.
// Page requests then reach the queue only for the attached PASIDs, with
// PASID_VALID set by the kernel.
import { IommufdObjectGraph, objectKey } from '../../common/iommufd-objects';
import type { InjectSpec } from '../../common/inject';
import type { NativeAddon, NativeFaultQueue } from '../native/addon-types';
import { explain, IommuscopeError, type ErrorContext } from '../errors';
import { teardown, type FaultSource, type QueueTuning } from './fault-source';
import { deviceHwInfo } from './device-hw-info';
import { attachMockPasids, type MockPasidIds } from './mock-pasid';
import { HwptFlag, HWPT_DATA_SELFTEST, selftestHwptData } from './uapi-constants';

export interface MockSourceOptions extends QueueTuning {
  iommuPath?: string;
  /** Attach the IOPF-capable HWPT to these PASIDs of the mock device instead of its RID. */
  pasids?: number[];
  /** Progress of each kernel step, for -v output. */
  log?: (step: string) => void;
}

export class MockSource implements FaultSource {
  readonly kind = 'mock' as const;
  readonly canInject = true;
  readonly queue: NativeFaultQueue;
  private readonly graph = new IommufdObjectGraph('mock');
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    private readonly iommufd: number,
    private readonly ids: {
      ioas: number;
      stdev: number;
      idev: number;
      mockHwpt: number;
      parent: number;
      nested: number;
      fault: number;
      pasid?: MockPasidIds;
    },
    queue: NativeFaultQueue,
  ) {
    this.queue = queue;
    const g = this.graph;
    const { ioas, idev, mockHwpt, parent, nested, fault } = ids;
    g.add({ type: 'ioas', key: objectKey.ioas(ioas), id: ioas, state: 'live', mappings: [] });
    g.add({
      type: 'hwpt',
      key: objectKey.hwpt(mockHwpt),
      id: mockHwpt,
      state: 'live',
      kind: 'paging',
      iopf: false,
      dataType: 0,
    });
    g.add({
      type: 'hwpt',
      key: objectKey.hwpt(parent),
      id: parent,
      state: 'live',
      kind: 'nest-parent',
      iopf: false,
      dataType: 0,
    });
    g.add({
      type: 'hwpt',
      key: objectKey.hwpt(nested),
      id: nested,
      state: 'live',
      kind: 'nested',
      iopf: true,
      dataType: HWPT_DATA_SELFTEST,
    });
    g.add({ type: 'fault', key: objectKey.fault(fault), id: fault, state: 'live' });
    g.add({
      type: 'device',
      key: objectKey.device(idev),
      id: idev,
      state: 'live',
      label: 'iommufd selftest mock device',
      origin: 'mock',
      hwInfo: deviceHwInfo(addon, iommufd, idev),
    });
    g.link(objectKey.hwpt(mockHwpt), objectKey.ioas(ioas), 'parent');
    g.link(objectKey.hwpt(parent), objectKey.ioas(ioas), 'parent');
    g.link(objectKey.hwpt(nested), objectKey.hwpt(parent), 'parent');
    g.link(objectKey.hwpt(nested), objectKey.fault(fault), 'fault');
    if (!ids.pasid) {
      g.link(objectKey.device(idev), objectKey.hwpt(nested), 'attached');
      return;
    }
    const { ridHwpt, pasids } = ids.pasid;
    g.add({
      type: 'hwpt',
      key: objectKey.hwpt(ridHwpt),
      id: ridHwpt,
      state: 'live',
      kind: 'paging',
      iopf: false,
      dataType: 0,
    });
    g.link(objectKey.hwpt(ridHwpt), objectKey.ioas(ioas), 'parent');
    g.link(objectKey.device(idev), objectKey.hwpt(ridHwpt), 'attached');
    for (const p of pasids) {
      const pk = objectKey.pasid(idev, p);
      g.add({ type: 'pasid', key: pk, devId: idev, pasid: p, state: 'live' });
      g.link(objectKey.device(idev), pk, 'pasid');
      g.link(pk, objectKey.hwpt(nested), 'attached');
    }
  }

  /** The PASIDs the fault queue is attached behind (empty: the whole device). */
  get pasids(): number[] {
    return this.ids.pasid?.pasids.slice() ?? [];
  }

  /** Build the object chain; on any failure everything created so far is released. */
  static open(addon: NativeAddon, opts: MockSourceOptions = {}): MockSource {
    const log = opts.log ?? (() => {});
    const path = opts.iommuPath ?? '/dev/iommu';
    let fd: number;
    try {
      fd = addon.openIommufd(path);
    } catch (err) {
      throw explain(err, 'open-iommufd', path);
    }
    let faultFd = -1;
    try {
      if (!addon.testCmdAvailable(fd)) {
        throw explain(
          { code: 'ENOTTY', message: 'IOMMU_TEST_CMD is not available' },
          'mock-test-cmd',
        );
      }
      const step = <T>(what: string, ctx: ErrorContext, fn: () => T): T => {
        try {
          const r = fn();
          log(
            `${what}: ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`,
          );
          return r;
        } catch (err) {
          throw explain(err, ctx, what);
        }
      };
      const pasids = opts.pasids ?? [];
      const withPasid = pasids.length > 0;
      const ioas = step('IOAS_ALLOC', 'ioas-alloc', () => addon.ioasAlloc(fd));
      const md = withPasid
        ? attachMockPasids.device(addon, fd, ioas, step)
        : step('MOCK_DOMAIN', 'mock-domain', () => addon.mockDomain(fd, ioas));
      const parent = step('HWPT_ALLOC nest-parent', 'hwpt-alloc', () =>
        addon.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: HwptFlag.NestParent }),
      );
      const fq = step('FAULT_QUEUE_ALLOC', 'fault-queue-alloc', () => addon.faultQueueAlloc(fd));
      faultFd = fq.faultFd;
      const nested = step('HWPT_ALLOC nested IOPF', 'iopf-hwpt-alloc', () =>
        addon.hwptAlloc(fd, {
          devId: md.idevId,
          ptId: parent,
          flags: HwptFlag.FaultIdValid | (withPasid ? HwptFlag.Pasid : 0),
          dataType: HWPT_DATA_SELFTEST,
          data: selftestHwptData(),
          faultId: fq.faultId,
        }),
      );
      const pasidIds = withPasid
        ? attachMockPasids.attach(addon, fd, { ioas, md, nested, pasids }, step)
        : undefined;
      if (!withPasid)
        step('MOCK_DOMAIN_REPLACE', 'iopf-attach', () =>
          addon.mockDomainReplace(fd, md.stdevId, nested),
        );
      const queue = addon.createFaultQueue({
        kind: 'kernel',
        faultFd: fq.faultFd,
        iommufd: fd,
        ioasId: ioas,
        mockDevId: md.idevId,
        ...(opts.jsBufferRecords !== undefined ? { jsBufferRecords: opts.jsBufferRecords } : {}),
        ...(opts.flushIntervalMs !== undefined ? { flushIntervalMs: opts.flushIntervalMs } : {}),
      });
      faultFd = -1; // owned by the queue now
      return new MockSource(
        addon,
        fd,
        {
          ioas,
          stdev: md.stdevId,
          idev: md.idevId,
          mockHwpt: md.hwptId,
          parent,
          nested,
          fault: fq.faultId,
          ...(pasidIds ? { pasid: pasidIds } : {}),
        },
        queue,
      );
    } catch (err) {
      // Closing the iommufd destroys every object made so far.
      if (faultFd >= 0) teardown([['close fault fd', () => addon.close(faultFd)]]);
      teardown([['close iommufd', () => addon.close(fd)]]);
      throw err instanceof IommuscopeError ? err : explain(err, 'mock-domain');
    }
  }

  objects() {
    return this.graph.snapshot();
  }

  checkInject(spec: InjectSpec): void {
    const bad = (what: string): never => {
      throw new IommuscopeError(
        'inject',
        'EINVAL',
        `the mock source cannot inject ${what}`,
        'use --source sim for that',
      );
    };
    if (spec.groupPages !== 1)
      bad(`group=${spec.groupPages}: TRIGGER_IOPF makes one single-page group per request`);
    if (spec.devices !== 1) bad(`devices=${spec.devices}: there is one mock device`);
    const attached = this.pasids;
    if (attached.length) {
      const outside = [spec.pasidMin, spec.pasidMax].find((p) => !attached.includes(p));
      if (outside !== undefined)
        throw new IommuscopeError(
          'inject',
          'EINVAL',
          `pasids=${spec.pasidMin}-${spec.pasidMax} leaves the attached PASIDs ${attached[0]}-${attached.at(-1)}: ` +
            `PASID ${outside} has no IOPF-capable domain, so the kernel would drop its page requests`,
          `inject pasids=${attached[0]}-${attached.at(-1)} (or attach more with --pasid A-B)`,
        );
    }
  }

  /**
   * Move the mock device from the IOPF-capable nested HWPT back to its parent:
   * the kernel answers every pending group INVALID, and the queue records them
   * as answered by the kernel so the close-time drain does not answer twice.
   */
  detach(): number {
    const { stdev, idev, parent, pasid } = this.ids;
    if (pasid) {
      // Each PASID moves to the RID's paging HWPT; the kernel answers its pending groups.
      try {
        for (const p of pasid.pasids)
          this.addon.mockPasidReplace(this.iommufd, stdev, p, pasid.ridHwpt);
      } catch (err) {
        throw explain(err, 'pasid-attach', 'a PASID of the mock device');
      }
      const answered = this.queue.kernelDetached();
      for (const p of pasid.pasids) {
        const pk = objectKey.pasid(idev, p);
        this.graph.unlink(pk, 'attached');
        this.graph.link(pk, objectKey.hwpt(pasid.ridHwpt), 'attached');
      }
      return answered;
    }
    try {
      this.addon.mockDomainReplace(this.iommufd, stdev, parent);
    } catch (err) {
      throw explain(err, 'attach', 'the mock device');
    }
    const answered = this.queue.kernelDetached();
    this.graph.unlink(objectKey.device(idev), 'attached');
    this.graph.link(objectKey.device(idev), objectKey.hwpt(parent), 'attached');
    return answered;
  }

  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const failures = teardown([
      ['close the fault queue', () => this.queue.close()],
      // Closing the iommufd destroys the HWPTs, the FAULT object, the mock device and the IOAS;
      // the kernel answers anything still queued INVALID.
      ['close iommufd', () => this.addon.close(this.iommufd)],
    ]);
    for (const id of [this.ids.nested, this.ids.parent, this.ids.mockHwpt])
      this.graph.setState(objectKey.hwpt(id), 'destroyed');
    if (this.ids.pasid) {
      this.graph.setState(objectKey.hwpt(this.ids.pasid.ridHwpt), 'destroyed');
      for (const p of this.ids.pasid.pasids)
        this.graph.setState(objectKey.pasid(this.ids.idev, p), 'destroyed');
    }
    this.graph.setState(objectKey.fault(this.ids.fault), 'destroyed');
    this.graph.setState(objectKey.device(this.ids.idev), 'destroyed');
    this.graph.setState(objectKey.ioas(this.ids.ioas), 'destroyed');
    return failures;
  }
}
