// AMD-Vi Extended Feature Register (EFR) fields, bit positions per the AMD
// IOMMU specification (48882) as also used by the kernel's
// drivers/iommu/amd/amd_iommu_types.h. Shared by the sysfs decoder and the
// IOMMU_GET_HW_INFO decoder (hw-info-amd.ts).
import type { BitField } from './reg-bits';

export const AMD_EFR_FIELDS: readonly BitField[] = [
  { key: 'prefetch', label: 'Prefetch (PreFSup)', lo: 0 },
  { key: 'pageRequests', label: 'Peripheral page requests (PPRSup)', lo: 1 },
  { key: 'x2apic', label: 'x2APIC (XTSup)', lo: 2 },
  { key: 'noExecute', label: 'No-execute (NXSup)', lo: 3 },
  { key: 'guestTranslation', label: 'Guest translation (GTSup)', lo: 4 },
  { key: 'invalidateAll', label: 'Invalidate all (IASup)', lo: 6 },
  { key: 'guestApic', label: 'Guest virtual APIC (GASup)', lo: 7 },
  { key: 'hardwareErrors', label: 'Hardware error registers (HESup)', lo: 8 },
  { key: 'perfCounters', label: 'Performance counters (PCSup)', lo: 9 },
  { key: 'hostAddressSize', label: 'Host address translation size (HATS)', lo: 10, hi: 11 },
  { key: 'guestAddressSize', label: 'Guest address translation size (GATS)', lo: 12, hi: 13 },
  { key: 'guestLevels', label: 'Guest CR3 root levels (GLXSup)', lo: 14, hi: 15 },
  { key: 'guestApicMode', label: 'Guest vAPIC mode (GAM)', lo: 21 },
  { key: 'pasidBits', label: 'PASID width (PASmax + 1 bits)', lo: 32, hi: 36, map: (m) => m + 1 },
  { key: 'guestIoProtection', label: 'Guest I/O protection (GIoSup)', lo: 48 },
  { key: 'hostAccessed', label: 'Host access (HASup)', lo: 49 },
  { key: 'enhancedPpr', label: 'Enhanced PPR handling (EPHSup)', lo: 50 },
  { key: 'hostDirty', label: 'Host dirty tracking (HDSup)', lo: 52 },
  { key: 'snp', label: 'SEV-SNP (SNPSup)', lo: 63 },
];
