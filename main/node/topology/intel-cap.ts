// Intel VT-d capability (CAP_REG) and extended capability (ECAP_REG)
// decoding, bit positions per the VT-d specification (rev 4.x) as also used
// by the kernel's include/linux/intel-iommu.h / drivers/iommu/intel/iommu.h.
import type { TopologyProblem, UnitFeature, UnitSummary } from '../../common/host-topology';
import { type BitField, decodeFields, flag, num, register } from './reg-bits';

export const INTEL_CAP_FIELDS: readonly BitField[] = [
  { key: 'numDomains', label: 'Number of domains', lo: 0, hi: 2, map: (nd) => 2 ** (4 + 2 * nd) },
  { key: 'advancedFaultLogging', label: 'Advanced fault logging (AFL)', lo: 3 },
  { key: 'requiredWriteBufferFlush', label: 'Write buffer flush required (RWBF)', lo: 4 },
  { key: 'cachingMode', label: 'Caching mode (CM)', lo: 7 },
  { key: 'sagaw', label: 'Second-level address widths (SAGAW)', lo: 8, hi: 12 },
  { key: 'mgaw', label: 'Max guest address width (MGAW)', lo: 16, hi: 21, map: (w) => w + 1 },
  { key: 'zeroLengthRead', label: 'Zero-length read (ZLR)', lo: 22 },
  { key: 'secondLevelLargePages', label: 'Second-level large pages (SLLPS)', lo: 34, hi: 37 },
  { key: 'pageSelectiveInvalidation', label: 'Page-selective invalidation (PSI)', lo: 39 },
  {
    key: 'faultRecords',
    label: 'Fault recording registers (NFR)',
    lo: 40,
    hi: 47,
    map: (n) => n + 1,
  },
  { key: 'maxAddressMask', label: 'Max address mask value (MAMV)', lo: 48, hi: 53 },
  { key: 'writeDraining', label: 'Write draining (DWD)', lo: 54 },
  { key: 'readDraining', label: 'Read draining (DRD)', lo: 55 },
  { key: 'firstLevel1G', label: 'First-level 1 GiB pages (FL1GP)', lo: 56 },
  { key: 'postedInterrupts', label: 'Posted interrupts (PI)', lo: 59 },
  { key: 'firstLevel5Level', label: 'First-level 5-level paging (FL5LP)', lo: 60 },
];

export const INTEL_ECAP_FIELDS: readonly BitField[] = [
  { key: 'coherent', label: 'Page-walk coherency (C)', lo: 0 },
  { key: 'queuedInvalidation', label: 'Queued invalidation (QI)', lo: 1 },
  { key: 'deviceTlb', label: 'Device-TLB / ATS (DT)', lo: 2 },
  { key: 'interruptRemapping', label: 'Interrupt remapping (IR)', lo: 3 },
  { key: 'extendedInterruptMode', label: 'Extended interrupt mode x2APIC (EIM)', lo: 4 },
  { key: 'passThrough', label: 'Pass-through (PT)', lo: 6 },
  { key: 'snoopControl', label: 'Snoop control (SC)', lo: 7 },
  { key: 'memoryTypes', label: 'Memory type support (MTS)', lo: 25 },
  { key: 'nested', label: 'Nested translation (NEST)', lo: 26 },
  { key: 'pageRequests', label: 'Page requests (PRS)', lo: 29 },
  { key: 'executeRequests', label: 'Execute requests (ERS)', lo: 30 },
  { key: 'supervisorRequests', label: 'Supervisor requests (SRS)', lo: 31 },
  { key: 'noWriteFlag', label: 'No write flag (NWFS)', lo: 33 },
  { key: 'extendedAccessedFlag', label: 'Extended accessed flag (EAFS)', lo: 34 },
  { key: 'pasidBits', label: 'PASID size (PSS + 1 bits)', lo: 35, hi: 39, map: (pss) => pss + 1 },
  { key: 'pasid', label: 'PASID support', lo: 40 },
  {
    key: 'deviceTlbInvalidationThrottling',
    label: 'Device-TLB invalidation throttling (DIT)',
    lo: 41,
  },
  { key: 'pageRequestDrain', label: 'Page request drain (PDS)', lo: 42 },
  { key: 'scalableMode', label: 'Scalable mode translation (SMTS)', lo: 43 },
  { key: 'virtualCommand', label: 'Virtual command (VCS)', lo: 44 },
  { key: 'secondLevelAD', label: 'Second-level accessed/dirty (SLADS)', lo: 45 },
  { key: 'secondLevel', label: 'Second-level translation (SLTS)', lo: 46 },
  { key: 'firstLevel', label: 'First-level translation (FLTS)', lo: 47 },
  { key: 'scalableModePwc', label: 'Scalable-mode page-walk coherency (SMPWCS)', lo: 48 },
  { key: 'ridPasid', label: 'RID_PASID support (RPS)', lo: 49 },
  { key: 'performanceMonitoring', label: 'Performance monitoring (PMS)', lo: 51 },
  { key: 'abortDmaMode', label: 'Abort DMA mode (ADMS)', lo: 52 },
  { key: 'ridPriv', label: 'RID_PRIV support (RPRIVS)', lo: 53 },
];

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
