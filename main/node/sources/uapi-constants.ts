// The few iommufd UAPI numbers the TypeScript side passes to the addon
// (include/uapi/linux/iommufd.h and iommufd_test.h, Linux 6.12).

export const HwptFlag = {
  NestParent: 1 << 0,
  DirtyTracking: 1 << 1,
  FaultIdValid: 1 << 2,
} as const;

export const IoasMapFlag = {
  FixedIova: 1 << 0,
  Writeable: 1 << 1,
  Readable: 1 << 2,
} as const;

/** IOMMU_HWPT_DATA_SELFTEST. */
export const HWPT_DATA_SELFTEST = 0xdead;
/** IOMMU_TEST_IOTLB_DEFAULT: struct iommu_hwpt_selftest { __u32 iotlb; }. */
export const IOMMU_TEST_IOTLB_DEFAULT = 0xbadbeef;

export function selftestHwptData(): ArrayBuffer {
  const data = new ArrayBuffer(4);
  new DataView(data).setUint32(0, IOMMU_TEST_IOTLB_DEFAULT, true);
  return data;
}
