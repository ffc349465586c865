// The PASID half of the mock source: a PASID-capable mock device, a
// PASID-compatible paging HWPT for its RID, and PASID_ATTACH of each PASID to
// the IOPF-capable HWPT (the order of the kernel selftest's
// iommufd_device_pasid.pasid_attach). Support is probed, never assumed from
// the kernel version: 6.12's selftest has no PASID ops.
import type { ErrorContext } from '../errors';
import { IommuscopeError } from '../errors';
import type { MockDomain, NativeAddon } from '../native/addon-types';
import { HwptFlag, MockDeviceFlag, TestOp } from './uapi-constants';

type Step = <T>(what: string, ctx: ErrorContext, fn: () => T) => T;

export interface MockPasidIds {
  /** The PASID-compatible paging HWPT the RID is attached to. */
  ridHwpt: number;
  pasids: number[];
}

/** Kernel version that added IOMMU_TEST_OP_PASID_ATTACH and VFIO_DEVICE_ATTACH_PASID. */
export const PASID_ATTACH_SINCE = 'Linux 6.15';

export function pasidTooOld(what: string): IommuscopeError {
  return new IommuscopeError(
    'pasid-attach',
    'EOPNOTSUPP',
    `this kernel is too old for ${what}: PASID attach came with ${PASID_ATTACH_SINCE} ` +
      '(6.12 lacks it; 7.3 has it)',
    `run ${PASID_ATTACH_SINCE} or later (in the test VM: run-in-vm.sh -v 7.3), or leave out --pasid`,
  );
}

export const attachMockPasids = {
  /** Probe PASID support, then MOCK_DOMAIN_FLAGS with MOCK_FLAGS_DEVICE_PASID. */
  device(addon: NativeAddon, fd: number, ioas: number, step: Step): MockDomain {
    if (!addon.testOpSupported(fd, TestOp.PasidAttach))
      throw pasidTooOld('PASID attach on the selftest mock device (IOMMU_TEST_OP_PASID_ATTACH)');
    return step('MOCK_DOMAIN_FLAGS(PASID)', 'mock-domain', () =>
      addon.mockDomainFlags(fd, ioas, MockDeviceFlag.Pasid),
    );
  },

  attach(
    addon: NativeAddon,
    fd: number,
    ids: { ioas: number; md: MockDomain; nested: number; pasids: number[] },
    step: Step,
  ): MockPasidIds {
    const { ioas, md, nested, pasids } = ids;
    const ridHwpt = step('HWPT_ALLOC paging (PASID-compatible, for the RID)', 'hwpt-alloc', () =>
      addon.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: HwptFlag.Pasid }),
    );
    step('MOCK_DOMAIN_REPLACE the RID to it', 'attach', () =>
      addon.mockDomainReplace(fd, md.stdevId, ridHwpt),
    );
    for (const p of pasids) {
      step(`PASID_ATTACH ${p} to IOPF HWPT ${nested}`, 'pasid-attach', () =>
        addon.mockPasidAttach(fd, md.stdevId, p, nested),
      );
    }
    return { ridHwpt, pasids: pasids.slice() };
  },
};
