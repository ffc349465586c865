// Seeded random groups and filters for the differential tests (TS evaluator
// against the native matcher). Reproducible: the same seed, the same cases.
import type { FilterGroup, FilterRecord } from '../../main/common/filter/evaluate';

/** mulberry32: a small, fast, seedable PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Addresses around the interesting edges: 0, a range boundary, the top of 64 bits. */
const BASES = [0x0n, 0x1f000n, 0x20000n, 0x7fff_f000n, 0x1_0000_0000n, 0xffff_ffff_ffff_d000n];
const HEX_POINTS = [
  '0x0',
  '0x1f000',
  '0x20000',
  '0x21000',
  '0x80000000',
  '0x100000000',
  '0xffffffffffffe000',
  '0xffffffffffffffff',
];

export const PASID_VALID = 1;
export const LAST_PAGE = 2;

/** A group of 1..4 pages with mixed permissions and consecutive addresses. */
export function randomGroup(r: Rng, cookie: number): FilterGroup {
  const pages = int(r, 1, 4);
  const hasPasid = r() < 0.6;
  const dev = int(r, 1, 3);
  const pasid = hasPasid ? int(r, 0, 5) : 0;
  const grpid = int(r, 0, 3);
  const base = pick(r, BASES) + BigInt(int(r, 0, 2)) * 0x1000n;
  const records: FilterRecord[] = [];
  for (let i = 0; i < pages; i++) {
    const addr = (base + BigInt(i) * 0x1000n) & 0xffff_ffff_ffff_ffffn;
    records.push({
      flags: (hasPasid ? PASID_VALID : 0) | (i === pages - 1 ? LAST_PAGE : 0),
      devId: dev,
      pasid,
      grpid,
      perm: int(r, 0, 15),
      addrHi: Number(addr >> 32n),
      addrLo: Number(addr & 0xffffffffn),
      cookie,
    });
  }
  return { records };
}

/** One test on a read-time field, as filter text. */
function randomAtom(r: Rng): string {
  const n = () => int(r, 0, 5);
  const perm = () => pick(r, ['r', 'w', 'x', 'p', 'rw', 'rx', 'wx', 'rwx', '-']);
  const addr = () => pick(r, HEX_POINTS);
  const op = () => pick(r, ['==', '!=', '<', '<=', '>', '>=']);
  switch (int(r, 0, 13)) {
    case 0:
      return `dev ${op()} ${int(r, 1, 3)}`;
    case 1:
      return 'pasid';
    case 2:
      return `pasid ${op()} ${n()}`;
    case 3: {
      const a = n();
      return `pasid in {${a}..${a + int(r, 0, 2)}, ${n()}}`;
    }
    case 4: {
      const [a, b] = [addr(), addr()].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
      return `${pick(r, ['', 'all '])}addr in {${a}..${b}}`;
    }
    case 5:
      return `${pick(r, ['', 'all '])}addr ${op()} ${addr()}`;
    case 6:
      return `perm ${pick(r, ['==', '!='])} "${perm()}"`;
    case 7:
      return `perm contains "${perm().replace('-', 'r')}"`;
    case 8:
      return pick(r, ['perm.r', 'perm.w', 'perm.x', 'perm.p']);
    case 9:
      return `pages ${op()} ${int(r, 1, 4)}`;
    case 10:
      return `grpid ${op()} ${int(r, 0, 3)}`;
    case 11:
      return `cookie ${op()} ${int(r, 1, 4000)}`;
    case 12:
      return `perm in {"${perm()}", "${perm()}"}`;
    default:
      return `dev in {1, 3}`;
  }
}

/** A random filter over read-time fields: atoms joined by && || ! and parentheses. */
export function randomFilter(r: Rng, depth = 3): string {
  if (depth === 0 || r() < 0.3) return randomAtom(r);
  switch (int(r, 0, 3)) {
    case 0:
      return `${randomFilter(r, depth - 1)} && ${randomFilter(r, depth - 1)}`;
    case 1:
      return `${randomFilter(r, depth - 1)} || ${randomFilter(r, depth - 1)}`;
    case 2:
      return `!(${randomFilter(r, depth - 1)})`;
    default:
      return `(${randomFilter(r, depth - 1)} ${pick(r, ['and', 'or'])} not ${randomAtom(r)})`;
  }
}

/** The groups' records as one buffer of 40-byte structs, and pages per group. */
export function encodeGroups(groups: readonly FilterGroup[]): {
  records: ArrayBuffer;
  pages: Uint32Array;
} {
  const total = groups.reduce((n, g) => n + g.records.length, 0);
  const buf = new ArrayBuffer(total * 40);
  const v = new DataView(buf);
  let off = 0;
  for (const g of groups) {
    for (const rec of g.records) {
      v.setUint32(off, rec.flags, true);
      v.setUint32(off + 4, rec.devId, true);
      v.setUint32(off + 8, rec.pasid, true);
      v.setUint32(off + 12, rec.grpid, true);
      v.setUint32(off + 16, rec.perm, true);
      v.setUint32(off + 24, rec.addrLo, true);
      v.setUint32(off + 28, rec.addrHi, true);
      v.setUint32(off + 32, 4096, true);
      v.setUint32(off + 36, rec.cookie, true);
      off += 40;
    }
  }
  return { records: buf, pages: Uint32Array.from(groups, (g) => g.records.length) };
}

/** One test on a field known only after the answer (the table filter, not policies). */
export function randomAnswerAtom(r: Rng): string {
  switch (int(r, 0, 5)) {
    case 0:
      return `state == ${pick(r, ['pending', 'success', 'invalid'])}`;
    case 1:
      return pick(r, ['by', 'code', 'latency', '!by']);
    case 2:
      return `by ${pick(r, ['==', '!='])} ${pick(r, ['user', 'policy', 'drain', 'kernel'])}`;
    case 3:
      return `code == ${pick(r, ['0', '1', 'success'])}`;
    case 4:
      return `latency ${pick(r, ['<', '>=', '!='])} ${pick(r, ['1us', '50us', '2ms', '0ns'])}`;
    default:
      return `state in {pending, invalid}`;
  }
}
