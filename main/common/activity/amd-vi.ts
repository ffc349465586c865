// AMD-Vi event log entries as drivers/iommu/amd/iommu.c logs them
// (iommu_print_event, amd_iommu_report_page_fault; pr_fmt and dev_fmt
// "AMD-Vi: "). Three shapes reach the log:
//   "AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:05.0 domain=0x0000 address=0x... flags=0x0020]"
//   "vfio-pci 0000:00:05.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=... address=... flags=...]"
//   "iommu ivhd0: AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=... pasid=0x00000 address=... flags=...]"
// Older kernels print the device without the segment ("device=00:05.0").
import type { DmaAccess } from './types';

/** Event type codes of the AMD IOMMU spec (event log entry, bits 63:60 of dword 1). */
export const AMD_EVENT_TYPES: Record<string, { code: number; meaning: string }> = {
  ILLEGAL_DEV_TABLE_ENTRY: {
    code: 0x1,
    meaning:
      'the device table entry for the requester is invalid (reserved bits or an unsupported mode)',
  },
  IO_PAGE_FAULT: {
    code: 0x2,
    meaning:
      'a DMA the domain page tables do not allow: the address is not mapped, or not for this access',
  },
  DEV_TAB_HARDWARE_ERROR: {
    code: 0x3,
    meaning: 'a bus or memory error while the IOMMU read the device table',
  },
  PAGE_TAB_HARDWARE_ERROR: {
    code: 0x4,
    meaning: 'a bus or memory error while the IOMMU read a page table',
  },
  ILLEGAL_COMMAND_ERROR: {
    code: 0x5,
    meaning: 'the driver queued a command the IOMMU does not accept',
  },
  COMMAND_HARDWARE_ERROR: {
    code: 0x6,
    meaning: 'a bus or memory error while the IOMMU read the command buffer',
  },
  IOTLB_INV_TIMEOUT: {
    code: 0x7,
    meaning: 'a device did not complete an ATS invalidation in time',
  },
  INVALID_DEVICE_REQUEST: {
    code: 0x8,
    meaning:
      'the device sent a request it may not (ATS or page request while disabled, or to a reserved range)',
  },
  INVALID_PPR_REQUEST: {
    code: 0x9,
    meaning: 'a page request the IOMMU rejected (PPR not enabled for the device, or malformed)',
  },
  RMP_PAGE_FAULT: { code: 0xd, meaning: 'SEV-SNP: the reverse map table does not allow this DMA' },
  RMP_HW_ERROR: {
    code: 0xe,
    meaning: 'SEV-SNP: a hardware error while reading the reverse map table',
  },
};

/** IO_PAGE_FAULT flag bits (AMD IOMMU spec, event log entry bits 27:16 of dword 1). */
const FLAG_BITS: [number, string][] = [
  [0x001, 'GN'],
  [0x002, 'NX'],
  [0x004, 'US'],
  [0x008, 'I'],
  [0x010, 'PR'],
  [0x020, 'RW'],
  [0x040, 'PE'],
  [0x080, 'RZ'],
  [0x100, 'TR'],
];

export interface AmdEventLine {
  eventName: string;
  code: number | null;
  /** 'iommu ivhd0' style prefix names the unit. */
  unit: string | null;
  /** 'ssss:bb:dd.f' (a missing segment is taken as 0000). */
  device: string | null;
  fields: Record<string, string>;
  flags: number | null;
  flagNames: string[];
  access: DmaAccess;
  pasid: number | null;
  addr: string | null;
  meaning: string;
}

const EVENT = /^(?:(\S+) (\S+): )?AMD-Vi: Event logged \[([A-Z_]+)([^\]]*)\]?$/;
const PCI = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])$/i;

export function looksLikeAmdEvent(message: string): boolean {
  return message.includes('AMD-Vi: Event logged');
}

function pciAddress(text: string): string | null {
  const m = PCI.exec(text);
  return m ? `${(m[1] ?? '0000').toLowerCase()}:${m[2]!.toLowerCase()}` : null;
}

/** Decodes one AMD-Vi "Event logged" line; null when the shape does not match (truncated). */
export function parseAmdEvent(message: string): AmdEventLine | null {
  const m = EVENT.exec(message);
  if (!m || !message.endsWith(']')) return null;
  const [, driver, devName, eventName, rest] = m;
  const fields: Record<string, string> = {};
  for (const part of rest!.trim().split(/[ ,]+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  let unit: string | null = null;
  let device = fields.device ? pciAddress(fields.device) : null;
  if (fields.device && !device) return null;
  if (driver === 'iommu' && devName) unit = devName;
  else if (devName && !device) device = pciAddress(devName);
  const flags = fields.flags !== undefined ? parseInt(fields.flags, 16) : null;
  if (flags !== null && Number.isNaN(flags)) return null;
  const flagNames = flags === null ? [] : FLAG_BITS.filter(([b]) => flags & b).map(([, n]) => n);
  const known = AMD_EVENT_TYPES[eventName!];
  const pasid = fields.pasid !== undefined ? parseInt(fields.pasid, 16) : null;
  const addr = fields.address !== undefined ? fields.address.toLowerCase() : (fields.gpa ?? null);
  let meaning = known?.meaning ?? 'an event type this decoder does not know';
  if (eventName === 'IO_PAGE_FAULT' && flags !== null) {
    if (flags & 0x080) meaning = 'a page-table entry has reserved bits set';
    else if (flags & 0x010)
      meaning = 'the address is mapped but the mapping does not allow this access';
    else meaning = 'the address is not mapped in the device domain (no present page-table entry)';
  }
  return {
    eventName: eventName!,
    code: known?.code ?? null,
    unit,
    device,
    fields,
    flags,
    flagNames,
    access: flags === null ? 'unknown' : flags & 0x002 ? 'exec' : flags & 0x020 ? 'write' : 'read',
    pasid: pasid !== null && !Number.isNaN(pasid) ? pasid : null,
    addr,
    meaning,
  };
}
