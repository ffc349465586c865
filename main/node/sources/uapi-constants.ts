// The few iommufd UAPI numbers the TypeScript side passes to the addon
// (include/uapi/linux/iommufd.h and iommufd_test.h, Linux 6.12 and 7.3; the
// 7.3-only ones are marked, and are probed at run time before use).

export const HwptFlag = {
  NestParent: 1 << 0,
  DirtyTracking: 1 << 1,
  FaultIdValid: 1 << 2,
  /** 7.3: a domain that can be attached to PASIDs (6.12: EOPNOTSUPP). */
  Pasid: 1 << 3,
} as const;

/** IOMMU_TEST_OP_* numbers we call or probe. */
export const TestOp = {
  MockDomainFlags: 12,
  TriggerIopf: 15,
  /** 7.3 */
  TriggerVevent: 17,
  /** 7.3 */
  PasidAttach: 18,
  PasidReplace: 19,
  PasidDetach: 20,
  PasidCheckHwpt: 21,
} as const;

/** MOCK_FLAGS_DEVICE_* for MOCK_DOMAIN_FLAGS. */
export const MockDeviceFlag = {
  NoDirty: 1 << 0,
  /** 7.3: the mock device reports MOCK_PASID_WIDTH (20) PASID bits. */
  Pasid: 1 << 2,
} as const;

/** IOMMU_VIOMMU_TYPE_SELFTEST, IOMMU_VEVENTQ_TYPE_SELFTEST, IOMMU_HW_QUEUE_TYPE_SELFTEST. */
export const SelftestType = {
  viommu: 0xdeadbeef,
  veventq: 0xbeefbeef,
  hwQueue: 0xdeadbeef,
} as const;

/** enum iommu_veventq_type. */
export const VeventqType = { ArmSmmuv3: 1, Tegra241Cmdqv: 2 } as const;

/** IOMMU_VEVENTQ_FLAG_LOST_EVENTS in struct iommufd_vevent_header.flags. */
export const VEVENTQ_FLAG_LOST_EVENTS = 1;
/** Bytes of struct iommufd_vevent_header { u32 flags; u32 sequence; }. */
export const VEVENT_HEADER_BYTES = 8;

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
