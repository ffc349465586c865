// IOMMU_HW_INFO_TYPE_ARM_SMMUV3: struct iommu_hw_info_arm_smmuv3 { u32 flags;
// u32 __reserved; u32 idr[6]; u32 iidr; u32 aidr; } (40 bytes). Only the
// IDR fields the uAPI lets a VMM use are decoded (iommufd.h: idr[0] ST_LEVEL,
// TERM_MODEL, STALL_MODEL, TTENDIAN, CD2L, ASID16, TTF; idr[1] SIDSIZE,
// SSIDSIZE; idr[3] BBML, RIL; idr[5] VAX, GRAN64K/16K/4K, DS), bit positions
// per the SMMUv3 specification 6.3.1-6.3.6.
import type { UnitFeature } from './host-topology';
import { checkSize, hex, u32At } from './hw-info';
import { type BitField, decodeFields } from './reg-bits';

const IDR0: readonly BitField[] = [
  { key: 'stLevel', label: 'Stream table levels (ST_LEVEL)', lo: 27, hi: 28 },
  { key: 'termModel', label: 'Terminate model (TERM_MODEL)', lo: 26 },
  { key: 'stallModel', label: 'Stall model (STALL_MODEL)', lo: 24, hi: 25 },
  { key: 'ttEndian', label: 'Table endianness (TTENDIAN)', lo: 21, hi: 22 },
  { key: 'cd2l', label: '2-level context descriptor tables (CD2L)', lo: 19 },
  { key: 'asid16', label: '16-bit ASIDs (ASID16)', lo: 12 },
  {
    key: 'ttf',
    label: 'Translation table formats (TTF: 1 AArch32, 2 AArch64, 3 both)',
    lo: 2,
    hi: 3,
  },
];
const IDR1: readonly BitField[] = [
  { key: 'sidBits', label: 'StreamID bits (SIDSIZE)', lo: 0, hi: 5 },
  { key: 'ssidBits', label: 'SubstreamID (PASID) bits (SSIDSIZE)', lo: 6, hi: 10 },
];
const IDR3: readonly BitField[] = [
  { key: 'ril', label: 'Range invalidation (RIL)', lo: 10 },
  { key: 'bbml', label: 'Break-before-make level (BBML)', lo: 11, hi: 12 },
];
const IDR5: readonly BitField[] = [
  { key: 'ds', label: '52-bit addresses with 4K/16K granules (DS)', lo: 3 },
  { key: 'gran4k', label: '4 KiB granule (GRAN4K)', lo: 4 },
  { key: 'gran16k', label: '16 KiB granule (GRAN16K)', lo: 5 },
  { key: 'gran64k', label: '64 KiB granule (GRAN64K)', lo: 6 },
  { key: 'vax', label: 'Virtual address extension (VAX: 1 = 52-bit VA)', lo: 10, hi: 11 },
];

export function decodeSmmuv3HwInfo(v: DataView, notes: string[]): UnitFeature[] {
  checkSize(v, 40, 'iommu_hw_info_arm_smmuv3', notes);
  const out: UnitFeature[] = [];
  const flags = u32At(v, 0);
  if (flags !== null)
    out.push({
      key: 'errataRepeatTlbiCfgi',
      label: 'Erratum T264-SMMU-3: issue TLBI/CFGI+SYNC twice',
      value: (flags & 1) !== 0,
      source: 'flags[0]',
    });
  const tables: [number, readonly BitField[]][] = [
    [0, IDR0],
    [1, IDR1],
    [3, IDR3],
    [5, IDR5],
  ];
  for (const [i, defs] of tables) {
    const r = u32At(v, 8 + 4 * i);
    if (r === null) continue;
    out.push({ key: `idr${i}`, label: `IDR${i}`, value: hex(r), source: `idr[${i}]` });
    out.push(...decodeFields(`idr${i}`, BigInt(r), defs));
  }
  const iidr = u32At(v, 32);
  if (iidr !== null) {
    out.push({ key: 'iidr', label: 'IIDR', value: hex(iidr), source: 'iidr' });
    out.push({
      key: 'implementer',
      label: 'Implementer (JEP106)',
      value: hex(iidr & 0xfff),
      source: 'iidr[11:0]',
    });
    out.push({
      key: 'revision',
      label: 'Revision',
      value: (iidr >>> 12) & 0xf,
      source: 'iidr[15:12]',
    });
    out.push({
      key: 'variant',
      label: 'Variant',
      value: (iidr >>> 16) & 0xf,
      source: 'iidr[19:16]',
    });
    out.push({
      key: 'productId',
      label: 'Product ID',
      value: hex(iidr >>> 20),
      source: 'iidr[31:20]',
    });
  }
  const aidr = u32At(v, 36);
  if (aidr !== null)
    out.push({
      key: 'architecture',
      label: 'Architecture version (AIDR)',
      value: `SMMUv${((aidr >>> 4) & 0xf) + 3}.${aidr & 0xf}`,
      source: 'aidr[7:0]',
    });
  return out;
}
