// /sys/kernel/debug/iommu/intel/invalidation_queue: per unit
// "Invalidation queue on IOMMU: dmar0", " Base: 0x114c000<tab>Head: 232<tab>Tail: 232",
// a column header, then one line per ring slot: index, the descriptor's
// quadwords (2 in legacy mode, 4 in scalable mode) and the kernel's slot
// status. Descriptor types from the VT-d spec (6.5.2); the type is qw0 bits
// 3:0 with bits 11:9 above them.
import { bits, hexValue, linesOf, ProblemList, type Decoded } from './problems';

export const DESCRIPTOR_TYPES: Record<number, string> = {
  1: 'context-cache',
  2: 'iotlb',
  3: 'device-tlb',
  4: 'interrupt-entry-cache',
  5: 'wait',
  6: 'pasid-iotlb',
  7: 'pasid-cache',
  8: 'pasid-device-tlb',
  9: 'page-group-response',
};

/** The kernel's desc_status values (QI_FREE, QI_IN_USE, QI_DONE, QI_ABORT). */
const SLOT_STATUS = ['free', 'in-use', 'done', 'abort'] as const;

export interface Descriptor {
  index: number;
  /** qw0.. as printed (16 hex digits each). */
  qw: string[];
  type: number;
  typeName: string;
  status: string;
}

export interface InvalidationQueue {
  unit: string;
  base: string;
  head: number;
  tail: number;
  /** 256 in scalable mode (4 quadwords), 128 in legacy mode. */
  descriptorBits: 128 | 256;
  /** Slots the file listed. */
  size: number;
  /** Slots between head and tail (submitted, not yet fetched). */
  pending: number;
  /** Non-empty slots by descriptor type name. */
  byType: Record<string, number>;
  /** The newest descriptors, newest first (slots before the tail, empty ones skipped). */
  recent: Descriptor[];
  /** Every slot as listed, in index order. */
  slots: Descriptor[];
}

export interface InvalidationQueueDecoded extends Decoded {
  units: InvalidationQueue[];
}

const RECENT = 8;
const UNIT = /^Invalidation queue on IOMMU: (\S+)\s*$/;
const HEAD = /^\s*Base: (?:0x)?([0-9a-f]+)\s+Head: (\d+)\s+Tail: (\d+)\s*$/i;
const COLUMNS = /^Index\s+qw0\s+qw1(\s+qw2\s+qw3)?\s+status\s*$/;

function descriptor(index: number, qw: string[], status: bigint): Descriptor {
  const q0 = BigInt(`0x${qw[0]!}`);
  const type = bits(q0, 0, 4) | (bits(q0, 9, 3) << 4);
  return {
    index,
    qw,
    type,
    typeName:
      DESCRIPTOR_TYPES[type] ?? (qw.every((q) => /^0+$/.test(q)) ? 'empty' : `type-${type}`),
    status: SLOT_STATUS[Number(status)] ?? `status-${status}`,
  };
}

function finish(
  u: Omit<InvalidationQueue, 'size' | 'pending' | 'byType' | 'recent'>,
): InvalidationQueue {
  const size = u.slots.length;
  const byType: Record<string, number> = {};
  for (const s of u.slots)
    if (s.typeName !== 'empty') byType[s.typeName] = (byType[s.typeName] ?? 0) + 1;
  const at = new Map(u.slots.map((s) => [s.index, s]));
  const recent: Descriptor[] = [];
  for (let k = 1; k <= size && recent.length < RECENT; k++) {
    const s = at.get((u.tail - k + size) % size);
    if (s && s.typeName !== 'empty') recent.push(s);
  }
  return {
    ...u,
    size,
    pending: size ? (u.tail - u.head + size) % size : 0,
    byType,
    recent,
  };
}

export function decodeInvalidationQueue(text: string): InvalidationQueueDecoded {
  const problems = new ProblemList();
  const units: InvalidationQueue[] = [];
  type Building = Omit<InvalidationQueue, 'size' | 'pending' | 'byType' | 'recent'>;
  let cur: Building | null = null;
  let name: string | null = null;
  const close = () => {
    if (cur) units.push(finish(cur));
    cur = null;
  };
  linesOf(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    const u = UNIT.exec(line);
    if (u) {
      close();
      name = u[1]!;
      return;
    }
    const h = HEAD.exec(line);
    if (h) {
      if (name === null)
        return problems.add(n, 'queue head/tail before "Invalidation queue on IOMMU"', line);
      close();
      cur = {
        unit: name,
        base: `0x${h[1]!.toLowerCase()}`,
        head: Number(h[2]),
        tail: Number(h[3]),
        descriptorBits: 128,
        slots: [],
      };
      return;
    }
    const c = COLUMNS.exec(line);
    if (c) {
      if (cur) (cur as Building).descriptorBits = c[1] ? 256 : 128;
      return;
    }
    const fields = line.trim().split(/\s+/);
    const quads = (cur as Building | null)?.descriptorBits === 256 ? 4 : 2;
    if (!cur) return problems.add(n, 'descriptor line before a "Base: Head: Tail:" line', line);
    if (fields.length !== quads + 2 || !/^\d+$/.test(fields[0]!))
      return problems.add(n, `expected index, ${quads} quadwords and a status`, line);
    const qw = fields.slice(1, 1 + quads);
    const status = hexValue(fields[quads + 1]!);
    if (status === null || !qw.every((q) => /^[0-9a-f]{16}$/i.test(q)))
      return problems.add(n, 'quadwords and status must be hex', line);
    (cur as Building).slots.push(
      descriptor(
        Number(fields[0]),
        qw.map((q) => q.toLowerCase()),
        status,
      ),
    );
  });
  close();
  return { units, problems: problems.list, problemCount: problems.count };
}
