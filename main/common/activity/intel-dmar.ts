// Intel VT-d lines from the kernel log (drivers/iommu/intel/dmar.c and
// iommu.c, pr_fmt "DMAR: "): the fault line printed by dmar_fault_do_one()
// and the table-walk dump of dmar_fault_dump_ptes() that follows it
// (CONFIG_DMAR_DEBUG). Shapes checked against the 6.12 and 7.3 kernels.
import { intelFaultReason } from './intel-fault-reasons';
import type { DmaAccess, WalkStep } from './types';

export interface IntelFaultLine {
  access: DmaAccess;
  /** null for NO_PASID. */
  pasid: number | null;
  /** 'bb:dd.f' (6.12) or 'ssss:bb:dd.f' (7.x), as printed. */
  bdf: string;
  addr: string;
  reason: number;
  reasonText: string;
  /** INTR-REMAP faults carry an interrupt index instead of an address. */
  interruptIndex: boolean;
}

const DMA_FAULT =
  /^DMAR: \[DMA (Read|Write|Execute)(?: (NO_PASID|PASID 0x([0-9a-f]+)))?\] Request device \[((?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\](?: PASID ([0-9a-f]+))? fault addr 0x([0-9a-f]+) \[fault reason 0x([0-9a-f]{2})\] ?(.*)$/i;
const IR_FAULT =
  /^DMAR: \[INTR-REMAP\] Request device \[((?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\] fault index 0x([0-9a-f]+) \[fault reason 0x([0-9a-f]{2})\] ?(.*)$/i;

/** True for lines that are meant to be a fault report (so a mismatch is 'unparsed'). */
export function looksLikeIntelFault(message: string): boolean {
  return /^DMAR: \[(DMA|INTR-REMAP)/.test(message) || /^DMAR: .*fault (addr|index)/.test(message);
}

export function parseIntelFault(message: string): IntelFaultLine | null {
  const m = DMA_FAULT.exec(message);
  if (m) {
    const kind = m[1]!.toLowerCase();
    // 6.x prints "PASID 0x0" in the bracket; older kernels "PASID ffffffff" after the device.
    const pasidHex = m[3] ?? (m[5] && m[5] !== 'ffffffff' ? m[5] : undefined);
    return {
      access: kind === 'read' ? 'read' : kind === 'write' ? 'write' : 'exec',
      pasid: pasidHex === undefined ? null : parseInt(pasidHex, 16),
      bdf: m[4]!.toLowerCase(),
      addr: `0x${m[6]!.toLowerCase()}`,
      reason: parseInt(m[7]!, 16),
      reasonText: m[8]!.trim() || intelFaultReason(parseInt(m[7]!, 16)).name,
      interruptIndex: false,
    };
  }
  const ir = IR_FAULT.exec(message);
  if (ir) {
    return {
      access: 'unknown',
      pasid: null,
      bdf: ir[1]!.toLowerCase(),
      addr: `0x${ir[2]!.toLowerCase()}`,
      reason: parseInt(ir[3]!, 16),
      reasonText: ir[4]!.trim() || intelFaultReason(parseInt(ir[3]!, 16)).name,
      interruptIndex: true,
    };
  }
  return null;
}

/** "DMAR: Dump dmar0 table entries for IOVA 0x5550000": the walk's first line. */
export function parseWalkStart(message: string): { unit: string; addr: string } | null {
  const m = /^DMAR: Dump (\S+) table entries for IOVA 0x([0-9a-f]+)$/i.exec(message);
  return m ? { unit: m[1]!, addr: `0x${m[2]!.toLowerCase()}` } : null;
}

const PGTT: Record<number, string> = {
  1: 'first-level',
  2: 'second-level',
  3: 'nested',
  4: 'pass-through',
};

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The walk's other lines; null when the line is not part of a walk dump. */
export function parseWalkLine(message: string): WalkStep | null {
  const text = message.replace(/^DMAR: /, '');
  if (text === message) return null;
  let m =
    /^(scalable mode )?root entry: (?:hi 0x([0-9a-f]+), low 0x([0-9a-f]+)|0x([0-9a-f]+))$/i.exec(
      text,
    );
  if (m) {
    const lo = BigInt(`0x${m[3] ?? m[4]!}`);
    const values = m[2] ? [`0x${m[2]}`, `0x${m[3]}`] : [`0x${m[4]}`];
    return {
      what: 'root',
      values,
      decoded: { scalable: !!m[1], present: (lo & 1n) === 1n, table: hex(lo & ~0xfffn) },
      text,
    };
  }
  m = /^context entry: hi 0x([0-9a-f]+), low 0x([0-9a-f]+)$/i.exec(text);
  if (m) {
    const lo = BigInt(`0x${m[2]}`);
    return {
      what: 'context',
      values: [`0x${m[1]}`, `0x${m[2]}`],
      decoded: { present: (lo & 1n) === 1n, table: hex(lo & ~0xfffn) },
      text,
    };
  }
  m = /^pasid dir entry: 0x([0-9a-f]+)$/i.exec(text);
  if (m) {
    const v = BigInt(`0x${m[1]}`);
    return {
      what: 'pasid-dir',
      values: [`0x${m[1]}`],
      decoded: { present: (v & 1n) === 1n, table: hex(v & ~0xfffn) },
      text,
    };
  }
  m = /^pasid table entry\[(\d+)\]: 0x([0-9a-f]+)$/i.exec(text);
  if (m) {
    const index = Number(m[1]);
    const v = BigInt(`0x${m[2]}`);
    return {
      what: 'pasid-entry',
      index,
      values: [`0x${m[2]}`],
      decoded: decodePasidQword(index, v),
      text,
    };
  }
  m = /^pte level: (\d+), pte value: 0x([0-9a-f]+)$/i.exec(text);
  if (m) {
    const v = BigInt(`0x${m[2]}`);
    return {
      what: 'pte',
      level: Number(m[1]),
      values: [`0x${m[2]}`],
      decoded: {
        read: (v & 1n) === 1n,
        write: (v & 2n) === 2n,
        present: (v & 3n) !== 0n,
        superpage: (v & 0x80n) === 0x80n,
        address: hex(v & 0x000ffffffffff000n),
      },
      text,
    };
  }
  m = /^page table not present at level (\d+)$/i.exec(text);
  if (m) return { what: 'not-present', level: Number(m[1]), values: [], decoded: {}, text };
  if (
    /(is not present|not present!?)$/i.test(text) ||
    /^(root|context|pasid) .*(invalid|not present)/i.test(text)
  )
    return { what: 'not-present', values: [], decoded: {}, text };
  return null;
}

/** Qwords 0-2 of a scalable-mode PASID table entry (VT-d 9.6). */
function decodePasidQword(index: number, v: bigint): Record<string, string | number | boolean> {
  if (index === 0) {
    const pgtt = Number((v >> 6n) & 7n);
    return {
      present: (v & 1n) === 1n,
      faultProcessingDisable: (v & 2n) === 2n,
      addressWidth: Number((v >> 2n) & 7n),
      pgtt: PGTT[pgtt] ?? `reserved (${pgtt})`,
      secondLevelTable: hex(v & 0x000ffffffffff000n),
    };
  }
  if (index === 1) {
    return { domainId: Number(v & 0xffffn), pageRequestEnable: ((v >> 23n) & 1n) === 1n };
  }
  if (index === 2) {
    return {
      firstLevelTable: hex(v & 0x000ffffffffff000n),
      firstLevelMode: Number((v >> 2n) & 3n),
    };
  }
  return {};
}

/** True when the step ends a walk: nothing below it will be printed. */
export function endsWalk(step: WalkStep): boolean {
  if (step.what === 'not-present') return true;
  // A non-present PTE is followed by "page table not present at level N".
  if (step.what === 'pte')
    return step.decoded.present === true && (step.level === 1 || step.decoded.superpage === true);
  return false;
}
