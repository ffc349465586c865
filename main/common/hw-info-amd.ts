// IOMMU_HW_INFO_TYPE_AMD: struct iommu_hw_info_amd { u64 efr; u64 efr2; }
// (16 bytes), raw Extended Feature registers. The VMM-allowed EFR fields are
// GTSup, GASup, GioSup, PPRSup, EPHSup, GATS, GLX and PASmax.
import { AMD_EFR_FIELDS } from './amd-fields';
import type { UnitFeature } from './host-topology';
import { checkSize, hex, u64At } from './hw-info';
import { decodeFields } from './reg-bits';

export function decodeAmdHwInfo(v: DataView, notes: string[]): UnitFeature[] {
  checkSize(v, 16, 'iommu_hw_info_amd', notes);
  const out: UnitFeature[] = [];
  const efr = u64At(v, 0);
  const efr2 = u64At(v, 8);
  if (efr !== null) {
    out.push({
      key: 'efr',
      label: 'Extended feature register (EFR)',
      value: hex(efr),
      source: 'efr',
    });
    out.push(...decodeFields('efr', efr, AMD_EFR_FIELDS));
  }
  if (efr2 !== null)
    out.push({
      key: 'efr2',
      label: 'Extended feature register 2 (EFR2)',
      value: hex(efr2),
      source: 'efr2',
    });
  return out;
}
