// AMD-Vi decoding: `amd-iommu/cap` is the IOMMU's PCI capability header
// dword; `amd-iommu/features` is the Extended Feature Register (newer kernels
// print "EFR:EFR2"). Bit positions per the AMD IOMMU specification (48882)
// as also used by the kernel's drivers/iommu/amd/amd_iommu_types.h.
import type { TopologyProblem, UnitSummary } from '../../common/host-topology';
import type { DecodedUnit } from './intel-cap';
import { AMD_EFR_FIELDS } from '../../common/amd-fields';
import {
  type BitField,
  decodeFields,
  flag,
  num,
  parseHex64,
  register,
} from '../../common/reg-bits';

export { AMD_EFR_FIELDS };

export const AMD_CAP_FIELDS: readonly BitField[] = [
  { key: 'iotlb', label: 'IOTLB / ATS support (IotlbSup)', lo: 24 },
  { key: 'htTunnel', label: 'HyperTransport tunnel (HtTunnel)', lo: 25 },
  { key: 'npCache', label: 'Not-present entries cached (NpCache)', lo: 26 },
  { key: 'efr', label: 'Extended feature register (EFRSup)', lo: 27 },
  { key: 'capExt', label: 'Misc information register 1 (CapExt)', lo: 28 },
];

export const AMD_REGISTER_FILES = ['cap', 'features'] as const;

export function decodeAmdUnit(
  registers: Record<string, string>,
  where: string,
  problems: TopologyProblem[],
): DecodedUnit {
  const cap = register(registers, 'cap', where, problems);
  // "features" is "EFR" or "EFR:EFR2"; only EFR is decoded, EFR2 stays raw.
  const efrText = registers.features?.trim().split(':')[0];
  let efr: bigint | null = null;
  if (efrText !== undefined) {
    efr = parseHex64(efrText);
    if (efr === null) {
      problems.push({
        path: `${where}/features`,
        code: 'EPARSE',
        message: `${where}/features: expected hex EFR[:EFR2], got ${JSON.stringify(registers.features?.slice(0, 40))}`,
      });
    }
  }
  const features = [
    ...(cap === null ? [] : decodeFields('cap', cap, AMD_CAP_FIELDS)),
    ...(efr === null ? [] : decodeFields('efr', efr, AMD_EFR_FIELDS)),
  ];
  const summary: UnitSummary = {};
  if (efr !== null) {
    const gt = flag(features, 'guestTranslation') === true;
    const ppr = flag(features, 'pageRequests') === true;
    // PASIDs need the guest (v2) page table: the kernel's
    // amd_iommu_pasid_supported() requires GTSup and a nonzero PASmax
    // (pasidBits = PASmax + 1 > 1).
    const pasid = gt && (num(features, 'pasidBits') ?? 1) > 1;
    summary.pasid = pasid;
    if (pasid) summary.pasidBits = num(features, 'pasidBits');
    summary.pageRequests = ppr;
    summary.nested = gt;
    summary.firstLevel = gt || flag(features, 'guestIoProtection') === true;
    summary.secondLevel = true; // the v1 host page table always exists
    summary.sva = pasid && ppr;
  }
  return { features, summary };
}
