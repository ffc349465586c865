// /sys/kernel/debug/iommu/intel/<bdf>/domain_translation_struct (and, on
// kernels that list PASID attachments, <bdf>/<pasid>/domain_translation_struct):
// "Device 0000:00:05.0 with pasid 0 @0x231c000" (the page table root), a
// header naming the levels (IOVA_PFN PML5E PML4E PDPE PDE PTE), then one
// line per mapped page or large page: "0xPFN |" and the entry at each level
// of the walk, the last non-zero one being the leaf (a large page ends the
// walk early, the deeper columns are 0). Bits from the VT-d spec 9.8/9.9:
// 0 read (first stage: present), 1 write, 7 page size.
import { bit, hex, linesOf, ProblemList, type Decoded } from './problems';

export interface Mapping {
  /** IOVA (the PFN shifted by 12), 0x-prefixed. */
  iova: string;
  /** Each level's entry, 0x-prefixed, in `levels` order. */
  entries: string[];
  /** Level name of the leaf (PTE for 4 KiB pages, PDE for 2 MiB, PDPE for 1 GiB). */
  leafLevel: string;
  /** Host physical address the leaf points at. */
  address: string;
  pageSize: number;
  read: boolean;
  write: boolean;
}

export interface TranslationSection {
  device: string;
  pasid: number;
  /** Page table root, 0x-prefixed. */
  root: string;
  levels: string[];
  mappings: Mapping[];
}

export interface TranslationStructDecoded extends Decoded {
  sections: TranslationSection[];
}

const SECTION =
  /^Device ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) with pasid (\d+) @0x([0-9a-f]+)\s*$/i;
const ROW = /^0x([0-9a-f]+)\s*\|\s*(.*)$/i;
const ADDRESS_MASK = ((1n << 52n) - 1n) & ~0xfffn;
const LEVEL_SHIFT: Record<string, number> = { PTE: 12, PDE: 21, PDPE: 30, PML4E: 39, PML5E: 48 };

export function decodeTranslationStruct(text: string): TranslationStructDecoded {
  const problems = new ProblemList();
  const sections: TranslationSection[] = [];
  let cur: TranslationSection | null = null;
  linesOf(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    const s = SECTION.exec(line);
    if (s) {
      cur = {
        device: s[1]!.toLowerCase(),
        pasid: Number(s[2]),
        root: `0x${s[3]!.toLowerCase()}`,
        levels: [],
        mappings: [],
      };
      sections.push(cur);
      return;
    }
    if (!cur) return problems.add(n, 'line before any "Device ... with pasid N @0x..."', line);
    const sec: TranslationSection = cur;
    if (/^IOVA_PFN\s/.test(line)) {
      sec.levels = line.trim().split(/\s+/).slice(1);
      return;
    }
    const r = ROW.exec(line.trim());
    const cols = r ? r[2]!.trim().split(/\s+/) : [];
    if (
      !r ||
      !sec.levels.length ||
      cols.length !== sec.levels.length ||
      !cols.every((c) => /^0x[0-9a-f]{16}$/i.test(c))
    )
      return problems.add(
        n,
        `expected "0xPFN |" and ${sec.levels.length || 'one entry per level'} entries`,
        line,
      );
    const values = cols.map((c) => BigInt(c));
    let leaf = values.length - 1;
    while (leaf > 0 && values[leaf] === 0n) leaf--;
    const v = values[leaf]!;
    const level = sec.levels[leaf]!;
    sec.mappings.push({
      iova: hex(BigInt(`0x${r[1]!}`) << 12n),
      entries: values.map(hex),
      leafLevel: level,
      address: hex(v & ADDRESS_MASK),
      pageSize: 2 ** (LEVEL_SHIFT[level] ?? 12),
      read: bit(v, 0),
      write: bit(v, 1),
    });
  });
  return { sections, problems: problems.list, problemCount: problems.count };
}
