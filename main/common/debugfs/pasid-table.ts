// /sys/kernel/debug/iommu/intel/dmar_translation_struct: per unit
// "IOMMU dmar0: Root Table Address: 0x1a90000", a column header, then one
// line per device (legacy mode) or per present PASID of a device (scalable
// mode): B.D.F, root entry hi:lo, context entry hi:lo, and in scalable mode
// the PASID and the PASID table entry's first three quadwords, printed
// val[2]:val[1]:val[0]. Which PASIDs of a device are live comes from here.
// Entry layouts: VT-d spec 9.4 (root), 9.4/9.5 (context), 9.6 (PASID entry).
import { bit, bits, hex, linesOf, ProblemList, type Decoded } from './problems';

export const PGTT_NAMES: Record<number, string> = {
  1: 'first-stage',
  2: 'second-stage',
  3: 'nested',
  4: 'pass-through',
};

export interface PasidEntry {
  pasid: number;
  present: boolean;
  /** PASID Granular Translation Type (val[0] bits 8:6) and its meaning. */
  pgtt: number;
  pgttName: string;
  /** Domain id (val[1] bits 15:0). */
  did: number;
  /** Page table root: second-stage (val[0] 63:12) or first-stage (val[2] 63:12) by PGTT. */
  pageTable: string;
  /** Fault processing disabled (val[0] bit 1). */
  faultsDisabled: boolean;
  /** val[0..2], 0x-prefixed. */
  raw: string[];
}

export interface DeviceTranslation {
  unit: string;
  /** bb:dd.f as printed. */
  bdf: string;
  /** ssss:bb:dd.f (segment from the caller, 0000 by default). */
  device: string;
  rootEntry: string;
  contextEntry: string;
  contextPresent: boolean;
  /** Scalable mode: one entry per PASID the file listed; empty in legacy mode. */
  pasids: PasidEntry[];
}

export interface PasidTableDecoded extends Decoded {
  units: { unit: string; rootTable: string; scalable: boolean }[];
  devices: DeviceTranslation[];
}

const UNIT = /^IOMMU (\S+): Root Table Address: (?:0x)?([0-9a-f]+)\s*$/i;
const PAIR = /^0x([0-9a-f]{16}):0x([0-9a-f]{16})$/i;
const TRIPLE = /^0x([0-9a-f]{16}):0x([0-9a-f]{16}):0x([0-9a-f]{16})$/i;
const BDF = /^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])$/i;

export function pasidEntry(pasid: number, val: [bigint, bigint, bigint]): PasidEntry {
  const [v0, v1, v2] = val;
  const pgtt = bits(v0, 6, 3);
  const firstStage = pgtt === 1;
  return {
    pasid,
    present: bit(v0, 0),
    pgtt,
    pgttName: PGTT_NAMES[pgtt] ?? `reserved-${pgtt}`,
    did: bits(v1, 0, 16),
    pageTable: hex(((firstStage ? v2 : v0) >> 12n) << 12n),
    faultsDisabled: bit(v0, 1),
    raw: val.map(hex),
  };
}

export function decodePasidTable(
  text: string,
  segmentOf: (unit: string) => number = () => 0,
): PasidTableDecoded {
  const problems = new ProblemList();
  const units: PasidTableDecoded['units'] = [];
  const byKey = new Map<string, DeviceTranslation>();
  let unit: PasidTableDecoded['units'][number] | null = null;
  linesOf(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    const u = UNIT.exec(line);
    if (u) {
      unit = { unit: u[1]!, rootTable: `0x${u[2]!.toLowerCase()}`, scalable: false };
      units.push(unit);
      return;
    }
    if (/^B\.D\.F\s/.test(line)) {
      if (unit) unit.scalable = /\bPASID\b/.test(line);
      return;
    }
    if (!unit) return problems.add(n, 'line before any "IOMMU ...: Root Table Address"', line);
    const cur: PasidTableDecoded['units'][number] = unit;
    const f = line.trim().split(/\s+/);
    const want = cur.scalable ? 5 : 3;
    const root = PAIR.exec(f[1] ?? '');
    const ctx = PAIR.exec(f[2] ?? '');
    if (f.length !== want || !BDF.test(f[0]!) || !root || !ctx)
      return problems.add(
        n,
        `expected B.D.F, root hi:lo, context hi:lo${cur.scalable ? ', PASID, PASID entry' : ''}`,
        line,
      );
    const bdf = f[0]!.toLowerCase();
    const key = `${cur.unit} ${bdf}`;
    let dev = byKey.get(key);
    if (!dev) {
      const seg = segmentOf(cur.unit).toString(16).padStart(4, '0');
      const ctxLo = BigInt(`0x${ctx[2]!}`);
      dev = {
        unit: cur.unit,
        bdf,
        device: `${seg}:${bdf}`,
        rootEntry: `0x${root[1]!}:0x${root[2]!}`.toLowerCase(),
        contextEntry: `0x${ctx[1]!}:0x${ctx[2]!}`.toLowerCase(),
        contextPresent: bit(ctxLo, 0),
        pasids: [],
      };
      byKey.set(key, dev);
    }
    if (!cur.scalable) return;
    const t = TRIPLE.exec(f[4]!);
    if (!/^\d+$/.test(f[3]!) || !t)
      return problems.add(n, 'PASID must be decimal, its entry 0xHI:0xMID:0xLO', line);
    const val: [bigint, bigint, bigint] = [
      BigInt(`0x${t[3]!}`),
      BigInt(`0x${t[2]!}`),
      BigInt(`0x${t[1]!}`),
    ];
    dev.pasids.push(pasidEntry(Number(f[3]), val));
  });
  return {
    units,
    devices: [...byKey.values()],
    problems: problems.list,
    problemCount: problems.count,
  };
}
