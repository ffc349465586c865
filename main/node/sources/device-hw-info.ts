// IOMMU_GET_HW_INFO for a device the session bound, decoded for its topology
// node. Never fatal: the fault path works without it, so a failure is shown.
import { decodeHwInfo } from '../../common/hw-info';
import type { DeviceHwInfo } from '../../common/iommufd-objects';
import type { NativeAddon } from '../native/addon-types';

const CAP_NAMES: [keyof ReturnType<typeof decodeHwInfo>['capabilities'], string][] = [
  ['dirtyTracking', 'dirty-tracking'],
  ['pasidExec', 'pasid-exec'],
  ['pasidPriv', 'pasid-priv'],
  ['atsNotSupported', 'ats-not-supported'],
];

export function deviceHwInfo(
  addon: NativeAddon,
  iommufd: number,
  devId: number,
): DeviceHwInfo | { error: string } {
  try {
    const hw = addon.getHwInfo(iommufd, devId);
    const d = decodeHwInfo({
      dataType: hw.dataType,
      dataLen: hw.dataLen,
      maxPasidLog2: hw.maxPasidLog2,
      capabilities: `0x${hw.capabilities.toString(16)}`,
      data: Buffer.from(hw.data).toString('hex'),
    });
    return {
      type: d.typeName,
      maxPasidLog2: d.maxPasidLog2,
      capabilities: CAP_NAMES.filter(([k]) => d.capabilities[k] === true).map(([, n]) => n),
      fields: Object.fromEntries(d.fields.map((f) => [f.key, f.value])),
      notes: d.notes,
    };
  } catch (err) {
    return { error: `IOMMU_GET_HW_INFO: ${err instanceof Error ? err.message : String(err)}` };
  }
}
