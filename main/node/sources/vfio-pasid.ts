// Before a VFIO PASID attach: is the kernel new enough, and can this device
// and its IOMMU do PASIDs at all? Both are probed, never read off the version:
//  - VFIO_DEVICE_DETACH_IOMMUFD_PT with VFIO_DEVICE_DETACH_PASID for the
//    PASID we are about to attach: kernels without PASID attach (6.12) refuse
//    the flag with EINVAL; kernels with it (7.3) accept detaching a PASID that
//    is not attached (a no-op);
//  - IOMMU_GET_HW_INFO's out_max_pasid_log2 is 0 when the device or its IOMMU
//    has no PASID support (7.3, edu behind QEMU's VT-d).
import { explain, IommuscopeError } from '../errors';
import type { NativeAddon } from '../native/addon-types';
import { pasidTooOld } from './mock-pasid';

export function checkVfioPasidAttach(
  addon: NativeAddon,
  fds: { iommufd: number; devFd: number; devId: number },
  pasid: number,
  device: string,
  log: (step: string) => void,
): void {
  const where = `PASID ${pasid} of ${device}`;
  const probePasid = pasid;
  try {
    addon.vfioDetachPt(fds.devFd, probePasid);
    log(`probe VFIO_DEVICE_DETACH_PASID ${probePasid}: ok (the kernel has PASID attach)`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EINVAL')
      throw pasidTooOld('PASID attach of VFIO devices (VFIO_DEVICE_ATTACH_PASID)');
    if (code === 'EOPNOTSUPP')
      throw new IommuscopeError(
        'pasid-attach',
        code,
        `the VFIO driver of ${device} cannot attach PASIDs`,
        'bind the device to vfio-pci (its variant drivers may lack PASID support), or leave out --pasid',
      );
    throw explain(err, 'pasid-attach', where);
  }
  let maxPasidLog2: number;
  try {
    maxPasidLog2 = addon.getHwInfo(fds.iommufd, fds.devId).maxPasidLog2;
  } catch (err) {
    throw explain(err, 'pasid-attach', where);
  }
  log(`GET_HW_INFO out_max_pasid_log2: ${maxPasidLog2}`);
  if (maxPasidLog2 === 0)
    throw new IommuscopeError(
      'pasid-attach',
      'ENOPASID',
      `${where}: the device has no PASID capability, or its IOMMU does not do PASID ` +
        '(IOMMU_GET_HW_INFO reports out_max_pasid_log2 = 0)',
      'use a PASID-capable device (PCIe PASID capability) behind an IOMMU with PASID support ' +
        '(VT-d scalable mode with ecap.PASID, AMD PASmax, SMMUv3 SSIDSIZE), or leave out --pasid',
    );
  if (pasid >= 2 ** maxPasidLog2)
    throw new IommuscopeError(
      'pasid-attach',
      'ERANGE',
      `PASID ${pasid} is out of range: the device takes PASIDs below 2^${maxPasidLog2}`,
      `pick a PASID from 1 to ${2 ** maxPasidLog2 - 1}`,
    );
}
