// IOMMU_HW_INFO_TYPE_SELFTEST (0xfeedbeef): struct iommu_test_hw_info
// { u32 flags; u32 test_reg; }, test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL.
import type { UnitFeature } from './host-topology';
import { checkSize, hex, u32At } from './hw-info';

export const SELFTEST_REGVAL = 0xdeadbeef;

export function decodeSelftestHwInfo(v: DataView, notes: string[]): UnitFeature[] {
  checkSize(v, 8, 'iommu_test_hw_info', notes);
  const reg = u32At(v, 4);
  if (reg !== null && reg !== SELFTEST_REGVAL)
    notes.push(`test_reg ${hex(reg)} is not the selftest's ${hex(SELFTEST_REGVAL)}`);
  const out: UnitFeature[] = [];
  const flags = u32At(v, 0);
  if (flags !== null)
    out.push({ key: 'flags', label: 'Flags', value: hex(flags), source: 'flags' });
  if (reg !== null)
    out.push({ key: 'testReg', label: 'Test register', value: hex(reg), source: 'test_reg' });
  return out;
}
