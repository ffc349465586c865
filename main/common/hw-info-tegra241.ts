// IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV: struct iommu_hw_info_tegra241_cmdqv
// { u32 flags; u8 version; u8 log2vcmdqs; u8 log2vsids; u8 __reserved; }
// (8 bytes): the fields a VMM puts in its emulated CMDQV PARAM register.
import type { UnitFeature } from './host-topology';
import { checkSize } from './hw-info';

export function decodeTegra241HwInfo(v: DataView, notes: string[]): UnitFeature[] {
  checkSize(v, 8, 'iommu_hw_info_tegra241_cmdqv', notes);
  if (v.byteLength < 8) return [];
  const log2vcmdqs = v.getUint8(5);
  const log2vsids = v.getUint8(6);
  return [
    {
      key: 'version',
      label: 'CMDQ-V version (PARAM[3:0])',
      value: v.getUint8(4),
      source: 'version',
    },
    {
      key: 'vcmdqs',
      label: 'Virtual command queues (2^log2vcmdqs, PARAM[7:4])',
      value: 2 ** log2vcmdqs,
      source: 'log2vcmdqs',
    },
    {
      key: 'vsids',
      label: 'SID replacements (2^log2vsids, PARAM[15:12])',
      value: 2 ** log2vsids,
      source: 'log2vsids',
    },
  ];
}
