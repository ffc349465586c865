// IOMMU_HW_INFO_TYPE_INTEL_VTD: struct iommu_hw_info_vtd { u32 flags; u32
// __reserved; u64 cap_reg; u64 ecap_reg; } (24 bytes).
import type { UnitFeature } from './host-topology';
import { checkSize, hex, u32At, u64At } from './hw-info';
import { decodeFields } from './reg-bits';
import { INTEL_CAP_FIELDS, INTEL_ECAP_FIELDS } from './vtd-fields';

export function decodeVtdHwInfo(v: DataView, notes: string[]): UnitFeature[] {
  checkSize(v, 24, 'iommu_hw_info_vtd', notes);
  const out: UnitFeature[] = [];
  const flags = u32At(v, 0);
  if (flags !== null) {
    out.push({
      key: 'errata772415',
      label: 'Erratum 772415 (SPR17): no read-only mappings on a nesting parent',
      value: (flags & 1) !== 0,
      source: 'flags[0]',
    });
  }
  const cap = u64At(v, 8);
  const ecap = u64At(v, 16);
  if (cap !== null) {
    out.push({ key: 'cap', label: 'Capability register', value: hex(cap), source: 'cap_reg' });
    out.push(...decodeFields('cap', cap, INTEL_CAP_FIELDS));
  }
  if (ecap !== null) {
    out.push({
      key: 'ecap',
      label: 'Extended capability register',
      value: hex(ecap),
      source: 'ecap_reg',
    });
    out.push(...decodeFields('ecap', ecap, INTEL_ECAP_FIELDS));
  }
  return out;
}
