// Intel VT-d capability (CAP_REG) and extended capability (ECAP_REG)
// decoding, bit positions per the VT-d specification (rev 4.x) as also used
// by the kernel's include/linux/intel-iommu.h / drivers/iommu/intel/iommu.h.
import type { TopologyProblem, UnitFeature, UnitSummary } from '../../common/host-topology';
import { decodeFields, flag, num, register } from '../../common/reg-bits';
import { INTEL_CAP_FIELDS, INTEL_ECAP_FIELDS } from '../../common/vtd-fields';

export { INTEL_CAP_FIELDS, INTEL_ECAP_FIELDS };

/** Raw files of /sys/class/iommu/dmarN/intel-iommu. */
export const INTEL_REGISTER_FILES = [
  'version',
  'address',
  'cap',
  'ecap',
  'domains_supported',
  'domains_used',
] as const;

export interface DecodedUnit {
  features: UnitFeature[];
  summary: UnitSummary;
}

function decimal(
  registers: Record<string, string>,
  name: string,
  where: string,
  problems: TopologyProblem[],
): number | undefined {
  const t = registers[name]?.trim();
  if (t === undefined) return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  problems.push({
    path: `${where}/${name}`,
    code: 'EPARSE',
    message: `${where}/${name}: expected a decimal number, got ${JSON.stringify(t.slice(0, 40))}`,
  });
  return undefined;
}

/** `where` is the sysfs folder of the registers, for problem paths. */
export function decodeIntelUnit(
  registers: Record<string, string>,
  where: string,
  problems: TopologyProblem[],
): DecodedUnit {
  const cap = register(registers, 'cap', where, problems);
  const ecap = register(registers, 'ecap', where, problems);
  const features = [
    ...(cap === null ? [] : decodeFields('cap', cap, INTEL_CAP_FIELDS)),
    ...(ecap === null ? [] : decodeFields('ecap', ecap, INTEL_ECAP_FIELDS)),
  ];
  const summary: UnitSummary = {};
  if (ecap !== null) {
    const pasid = flag(features, 'pasid') === true;
    summary.scalableMode = flag(features, 'scalableMode');
    summary.pasid = pasid;
    if (pasid) summary.pasidBits = num(features, 'pasidBits');
    summary.pageRequests = flag(features, 'pageRequests');
    summary.nested = flag(features, 'nested');
    summary.firstLevel = flag(features, 'firstLevel');
    summary.secondLevel = flag(features, 'secondLevel');
    // What the kernel's SVA support needs from a VT-d unit: PASID, page
    // requests and first-level tables (CPU page-table format).
    summary.sva = pasid && summary.pageRequests === true && summary.firstLevel === true;
  }
  if (cap !== null) summary.cachingMode = flag(features, 'cachingMode');
  const supported = decimal(registers, 'domains_supported', where, problems);
  summary.domainsSupported = supported ?? num(features, 'numDomains');
  const used = decimal(registers, 'domains_used', where, problems);
  if (used !== undefined) summary.domainsUsed = used;
  return { features, summary };
}
