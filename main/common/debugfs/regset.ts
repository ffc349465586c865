// /sys/kernel/debug/iommu/intel/iommu_regset: per unit a header
// "IOMMU: dmar0 Register Base Address: fed90000", a "Name Offset Contents"
// line and one "NAME<tab>0xOFF<tab><tab>0xVALUE" line per register (6.12
// also lists CCMD and AFLOG; 7.3 does not). Decoded here: the fault status
// (FSTS), fault and page-request event control, global status, and the
// invalidation and page request queues' head/tail (VT-d spec, chapter 11).
import { bit, bits, hex, hexValue, linesOf, ProblemList, type Decoded } from './problems';

export interface Register {
  name: string;
  offset: number;
  /** 0x-prefixed hex. */
  value: string;
}

export interface FaultStatus {
  /** FSTS as read. */
  raw: string;
  primaryFaultOverflow: boolean;
  primaryPendingFault: boolean;
  invalidationQueueError: boolean;
  invalidationCompletionError: boolean;
  invalidationTimeoutError: boolean;
  /** FRI: the fault recording register the next fault goes to. */
  faultRecordIndex: number;
  /** Names of the set bits (PFO, PPF, IQE, ICE, ITE), empty when clean. */
  set: string[];
}

export interface QueueState {
  /** Base address (IQA/PQA bits 63:12). */
  base: string;
  /** Descriptor indexes (the register's byte offset over the descriptor size). */
  head: number;
  tail: number;
  /** Descriptors in the queue (from the size field); 0 when the queue is not set up. */
  size: number;
  /** Descriptors between head and tail: submitted but not yet fetched by the hardware. */
  pending: number;
}

export interface RegsetUnit {
  unit: string;
  /** Register base address, 0x-prefixed. */
  base: string;
  registers: Register[];
  fault: FaultStatus | null;
  /** GSTS bits: translation enabled, queued invalidation, interrupt remapping. */
  status: { translation: boolean; queuedInvalidation: boolean; interruptRemapping: boolean } | null;
  /** FECTL / PECTL: interrupt masked (IM) and pending (IP). */
  faultEvent: { masked: boolean; pending: boolean } | null;
  pageRequestEvent: { masked: boolean; pending: boolean } | null;
  invalidationQueue: QueueState | null;
  pageRequestQueue: (QueueState & { pendingRequest: boolean; overflow: boolean }) | null;
}

export interface RegsetDecoded extends Decoded {
  units: RegsetUnit[];
}

const HEADER = /^IOMMU: (\S+) Register Base Address: (?:0x)?([0-9a-f]+)\s*$/i;
const REGISTER = /^([A-Z][A-Z0-9_]*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]{1,16})\s*$/i;

/** Scalable-mode translation (ECAP.SMTS, bit 43): 256-bit invalidation descriptors. */
const ECAP_SMTS = 43;

function faultStatus(v: bigint): FaultStatus {
  const named: [string, boolean][] = [
    ['PFO', bit(v, 0)],
    ['PPF', bit(v, 1)],
    ['IQE', bit(v, 4)],
    ['ICE', bit(v, 5)],
    ['ITE', bit(v, 6)],
  ];
  return {
    raw: hex(v),
    primaryFaultOverflow: bit(v, 0),
    primaryPendingFault: bit(v, 1),
    invalidationQueueError: bit(v, 4),
    invalidationCompletionError: bit(v, 5),
    invalidationTimeoutError: bit(v, 6),
    faultRecordIndex: bits(v, 8, 8),
    set: named.filter(([, on]) => on).map(([n]) => n),
  };
}

function queue(head: bigint, tail: bigint, addr: bigint, descriptorShift: number): QueueState {
  const pages = addr === 0n ? 0 : 2 ** bits(addr, 0, 3);
  const size = (pages * 4096) >> descriptorShift;
  const h = bits(head, descriptorShift, 19 - descriptorShift);
  const t = bits(tail, descriptorShift, 19 - descriptorShift);
  return {
    base: hex(addr & ~0xfffn),
    head: h,
    tail: t,
    size,
    pending: size ? (t - h + size) % size : 0,
  };
}

function decodeUnit(u: { unit: string; base: string; registers: Register[] }): RegsetUnit {
  const reg = new Map(u.registers.map((r) => [r.name, BigInt(r.value)]));
  const get = (n: string) => reg.get(n);
  const fsts = get('FSTS');
  const gsts = get('GSTS');
  const event = (v: bigint | undefined) =>
    v === undefined ? null : { masked: bit(v, 31), pending: bit(v, 30) };
  const ecap = get('ECAP') ?? 0n;
  const iqa = get('IQA');
  const iqh = get('IQH');
  const iqt = get('IQT');
  // 256-bit descriptors when IQA.DW is set or in scalable mode (the kernel's qi_shift()).
  const iqShift = iqa !== undefined && (bit(iqa, 11) || bit(ecap, ECAP_SMTS)) ? 5 : 4;
  const pqa = get('PQA');
  const pqh = get('PQH');
  const pqt = get('PQT');
  const prs = get('PRS') ?? 0n;
  return {
    ...u,
    fault: fsts === undefined ? null : faultStatus(fsts),
    status:
      gsts === undefined
        ? null
        : {
            translation: bit(gsts, 31),
            queuedInvalidation: bit(gsts, 26),
            interruptRemapping: bit(gsts, 25),
          },
    faultEvent: event(get('FECTL')),
    pageRequestEvent: event(get('PECTL')),
    invalidationQueue:
      iqa !== undefined && iqh !== undefined && iqt !== undefined
        ? queue(iqh, iqt, iqa, iqShift)
        : null,
    pageRequestQueue:
      pqa !== undefined && pqh !== undefined && pqt !== undefined
        ? { ...queue(pqh, pqt, pqa, 5), pendingRequest: bit(prs, 0), overflow: bit(prs, 1) }
        : null,
  };
}

export function decodeRegset(text: string): RegsetDecoded {
  const problems = new ProblemList();
  const units: RegsetUnit[] = [];
  let cur: { unit: string; base: string; registers: Register[] } | null = null;
  const close = () => {
    if (cur) units.push(decodeUnit(cur));
    cur = null;
  };
  linesOf(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    const h = HEADER.exec(line);
    if (h) {
      close();
      cur = { unit: h[1]!, base: `0x${h[2]!.toLowerCase()}`, registers: [] };
      return;
    }
    if (/^Name\s+Offset\s+Contents\s*$/.test(line)) return;
    const r = REGISTER.exec(line);
    if (!r) return problems.add(n, 'not a register line (NAME 0xOFFSET 0xVALUE)', line);
    if (!cur)
      return problems.add(n, 'register line before any "IOMMU: ... Register Base Address"', line);
    const value = hexValue(r[3]!);
    (cur as { registers: Register[] }).registers.push({
      name: r[1]!,
      offset: parseInt(r[2]!, 16),
      value: hex(value!),
    });
  });
  close();
  return { units, problems: problems.list, problemCount: problems.count };
}
