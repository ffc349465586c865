// Intel VT-d fault reason codes (VT-d spec, chapter 7 "Address Translation
// Faults", and the kernel's dmar.c tables, which print the `name` text after
// "[fault reason 0xNN]"). `meaning` says what usually caused it, for the
// engineer reading the fault log. 0x01-0x0d: legacy-mode DMA remapping;
// 0x20-0x26: interrupt remapping; 0x30-0x90: scalable mode.

export interface FaultReason {
  code: number;
  /** The kernel's text for the code. */
  name: string;
  /** What it means in practice. */
  meaning: string;
}

const LEGACY: [number, string, string][] = [
  [0x00, 'Software', 'reserved code; the hardware should not report it'],
  [
    0x01,
    'Present bit in root entry is clear',
    'no context table for this bus: the bus was never set up for DMA remapping',
  ],
  [
    0x02,
    'Present bit in context entry is clear',
    'the device (devfn) has no context entry: it is not attached to any domain',
  ],
  [0x03, 'Invalid context entry', 'the context entry is present but its fields are inconsistent'],
  [
    0x04,
    'Access beyond MGAW',
    'the DMA address is wider than the domain address width: the IOVA is out of range',
  ],
  [
    0x05,
    'PTE Write access is not set',
    'a DMA write to an IOVA that is not mapped, or mapped read-only',
  ],
  [
    0x06,
    'PTE Read access is not set',
    'a DMA read from an IOVA that is not mapped, or mapped write-only',
  ],
  [
    0x07,
    'Next page table ptr is invalid',
    'a page-table pointer led outside memory: the page tables are corrupt',
  ],
  [0x08, 'Root table address invalid', 'the root table address register points outside memory'],
  [0x09, 'Context table ptr is invalid', 'the root entry points outside memory'],
  [0x0a, 'non-zero reserved fields in RTP', 'a root entry has reserved bits set'],
  [0x0b, 'non-zero reserved fields in CTP', 'a context entry has reserved bits set'],
  [
    0x0c,
    'non-zero reserved fields in PTE',
    'a page-table entry has reserved bits set (e.g. a large page the unit does not support)',
  ],
  [
    0x0d,
    'PCE for translation request specifies blocking',
    'the context entry blocks ATS translation requests from this device',
  ],
];

const INTERRUPT: [number, string, string][] = [
  [
    0x20,
    'Detected reserved fields in the decoded interrupt-remapped request',
    'a malformed remappable MSI',
  ],
  [
    0x21,
    'Interrupt index exceeded the interrupt-remapping table size',
    'an MSI named an IRTE beyond the table',
  ],
  [
    0x22,
    'Present field in the IRTE entry is clear',
    'an MSI named an IRTE that is not set up (stale MSI programming)',
  ],
  [
    0x23,
    'Error accessing interrupt-remapping table pointed by IRTA_REG',
    'the interrupt-remapping table address is invalid',
  ],
  [0x24, 'Detected reserved fields in the IRTE entry', 'an IRTE has reserved bits set'],
  [
    0x25,
    'Blocked a compatibility format interrupt request',
    'a non-remappable MSI while compatibility format is disabled',
  ],
  [
    0x26,
    'Blocked an interrupt request due to source-id verification failure',
    'the MSI came from a requester the IRTE does not allow',
  ],
];

const SCALABLE: [number, string, string][] = [
  [0x30, 'SM: Invalid Root Table Address', 'the root table address is invalid'],
  [
    0x31,
    'SM: TTM 0 for request with PASID',
    'a request with PASID while the unit is not in scalable mode',
  ],
  [
    0x32,
    'SM: TTM 0 for page group request',
    'a page request while the unit is not in scalable mode',
  ],
  [0x38, 'SM: Error attempting to access Root Entry', 'the root entry could not be read'],
  [0x39, 'SM: Present bit in Root Entry is clear', 'no context table for this bus'],
  [0x3a, 'SM: Non-zero reserved field set in Root Entry', 'a root entry has reserved bits set'],
  [0x40, 'SM: Error attempting to access Context Entry', 'the context entry could not be read'],
  [
    0x41,
    'SM: Present bit in Context Entry is clear',
    'the device has no context entry: not attached',
  ],
  [
    0x42,
    'SM: Non-zero reserved field set in the Context Entry',
    'a context entry has reserved bits set',
  ],
  [0x43, 'SM: Invalid Context Entry', 'the context entry fields are inconsistent'],
  [
    0x44,
    'SM: DTE field in Context Entry is clear',
    'an ATS translation request while device TLB is disabled',
  ],
  [
    0x45,
    'SM: PASID Enable field in Context Entry is clear',
    'a request with PASID while PASID is not enabled for the device',
  ],
  [
    0x46,
    'SM: PASID is larger than the max in Context Entry',
    'the PASID is beyond the PASID directory size',
  ],
  [
    0x47,
    'SM: PRE field in Context-Entry is clear',
    'a page request while page requests are not enabled for the device',
  ],
  [
    0x48,
    'SM: RID_PASID field error in Context-Entry',
    'the RID_PASID in the context entry is invalid',
  ],
  [
    0x50,
    'SM: Error attempting to access the PASID Directory Entry',
    'the PASID directory entry could not be read',
  ],
  [
    0x51,
    'SM: Present bit in Directory Entry is clear',
    'no PASID table for this PASID: the PASID is not attached',
  ],
  [
    0x52,
    'SM: Non-zero reserved field set in PASID Directory Entry',
    'a PASID directory entry has reserved bits set',
  ],
  [
    0x58,
    'SM: Error attempting to access PASID Table Entry',
    'the PASID table entry could not be read',
  ],
  [
    0x59,
    'SM: Present bit in PASID Table Entry is clear',
    'the PASID is not attached to any domain',
  ],
  [
    0x5a,
    'SM: Non-zero reserved field set in PASID Table Entry',
    'a PASID table entry has reserved bits set',
  ],
  [
    0x5b,
    'SM: Invalid Scalable-Mode PASID Table Entry',
    'the PASID table entry fields are inconsistent',
  ],
  [
    0x5c,
    'SM: ERE field is clear in PASID Table Entry',
    'an execute request while execute requests are disabled',
  ],
  [
    0x5d,
    'SM: SRE field is clear in PASID Table Entry',
    'a supervisor request while supervisor requests are disabled',
  ],
  [
    0x70,
    'SM: Error attempting to access first-level paging entry',
    'a first-level page-table entry could not be read',
  ],
  [
    0x71,
    'SM: Present bit in first-level paging entry is clear',
    'the address is not mapped in the first-level (process) page table',
  ],
  [
    0x72,
    'SM: Non-zero reserved field set in first-level paging entry',
    'a first-level entry has reserved bits set',
  ],
  [
    0x73,
    'SM: Error attempting to access FL-PML4 entry',
    'the first-level PML4 entry could not be read',
  ],
  [
    0x74,
    'SM: First-level entry address beyond MGAW in Nested translation',
    'nested: a first-level pointer is beyond the second-level width',
  ],
  [
    0x75,
    'SM: Read permission error in FL-PML4 entry in Nested translation',
    'nested: the second level does not allow reading the first-level PML4',
  ],
  [
    0x76,
    'SM: Read permission error in first-level paging entry in Nested translation',
    'nested: the second level does not allow reading a first-level table',
  ],
  [
    0x77,
    'SM: Write permission error in first-level paging entry in Nested translation',
    'nested: the second level does not allow an A/D update of a first-level entry',
  ],
  [
    0x78,
    'SM: Error attempting to access second-level paging entry',
    'a second-level page-table entry could not be read',
  ],
  [
    0x79,
    'SM: Read/Write permission error in second-level paging entry',
    'the IOVA is not mapped, or not with this access, in the second-level table',
  ],
  [
    0x7a,
    'SM: Non-zero reserved field set in second-level paging entry',
    'a second-level entry has reserved bits set',
  ],
  [
    0x7b,
    'SM: Invalid second-level page table pointer',
    'the second-level table pointer is invalid',
  ],
  [
    0x7c,
    'SM: A/D bit update needed in second-level entry when set up in no snoop',
    'an A/D update was needed on a no-snoop mapping',
  ],
  [
    0x80,
    'SM: Address in first-level translation is not canonical',
    'the address is not canonical (bits 63:48 not a sign extension)',
  ],
  [
    0x81,
    'SM: U/S set 0 for first-level translation with user privilege',
    'a user-mode request to a supervisor-only page',
  ],
  [
    0x82,
    'SM: No execute permission for request with PASID and ER=1',
    'an execute request to a no-execute page',
  ],
  [0x83, 'SM: Address beyond the DMA hardware max', 'the address is beyond the unit address width'],
  [
    0x84,
    'SM: Second-level entry address beyond the max',
    'a second-level pointer is beyond the address width',
  ],
  [
    0x85,
    'SM: No write permission for Write/AtomicOp request',
    'a write to a page mapped read-only (or not mapped)',
  ],
  [
    0x86,
    'SM: No read permission for Read/AtomicOp request',
    'a read from a page mapped without read permission',
  ],
  [
    0x87,
    'SM: Invalid address-interrupt address',
    'a DMA write to the interrupt address range that is not an MSI',
  ],
  [
    0x90,
    'SM: A/D bit update needed in first-level entry when set up in no snoop',
    'an A/D update was needed on a no-snoop first-level mapping',
  ],
];

const TABLE = new Map<number, FaultReason>(
  [...LEGACY, ...INTERRUPT, ...SCALABLE].map(([code, name, meaning]) => [
    code,
    { code, name, meaning },
  ]),
);

/** The reason for a code; unknown codes get 'Unknown' like the kernel prints. */
export function intelFaultReason(code: number): FaultReason {
  return (
    TABLE.get(code) ?? {
      code,
      name: 'Unknown',
      meaning: `reason 0x${code.toString(16)} is not in the VT-d tables we know`,
    }
  );
}

/** Every code we know, for tests and the dashboard's filter list. */
export function intelFaultReasonCodes(): number[] {
  return [...TABLE.keys()].sort((a, b) => a - b);
}

/** Interrupt-remapping fault codes (0x20-0x2f) are about MSIs, not DMA. */
export function isInterruptRemapReason(code: number): boolean {
  return code >= 0x20 && code < 0x30;
}
