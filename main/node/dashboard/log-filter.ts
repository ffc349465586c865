// The fault log's one filter evaluation: FaultFilter → a test on a row
// position, reading the row columns only. Groups are matched as a whole, as
// policy rules match them: permissions are the union of the pages', and an
// address range matches when any page of the group is in it. (The common
// matching language in main/common/filter replaces this file's body.)
import type { FaultFilter } from '../../common/contract';
import { parsePerm } from '../../common/fault-record';
import { RowState, type RowColumns } from './log-rows';

export interface CompiledFilter {
  /** Same key, same matches (for caches). */
  key: string;
  /** Membership changes with answers (the cache must follow them). */
  hasState: boolean;
  test(pos: number): boolean;
}

/**
 * For a multi-page group whose pages straddle [lo, hi] without its first or
 * last page in it: whether some page is inside, from the group's kept
 * records; undefined when they are no longer kept.
 */
export type AnyPageIn = (pos: number, lo: bigint, hi: bigint) => boolean | undefined;

const U64_MAX = (1n << 64n) - 1n;
const stateCodes = {
  pending: RowState.Pending,
  success: RowState.Success,
  invalid: RowState.Invalid,
};

export function filterKey(filter: FaultFilter): string {
  return JSON.stringify([
    filter.devId,
    filter.pasid,
    filter.perm,
    filter.addrMin,
    filter.addrMax,
    filter.state,
  ]);
}

export function isEmptyFilter(filter: FaultFilter | undefined): boolean {
  return !filter || Object.values(filter).every((v) => v === undefined);
}

/** Compile once per query: `c` must stay the current columns while the test is used. */
export function compileFilter(
  filter: FaultFilter,
  c: RowColumns,
  anyPageIn: AnyPageIn,
): CompiledFilter {
  const tests: ((p: number) => boolean)[] = [(p) => c.state[p] !== RowState.Gone];
  if (filter.devId !== undefined) {
    const want = filter.devId;
    tests.push((p) => c.devId[p] === want);
  }
  if (filter.pasid !== undefined) {
    const want = filter.pasid;
    tests.push((p) => c.pasid[p] === want);
  }
  if (filter.perm) {
    const bits = parsePerm(filter.perm);
    if (typeof bits === 'number') tests.push((p) => (c.perm[p]! & bits) === bits);
  }
  if (filter.addrMin !== undefined || filter.addrMax !== undefined) {
    const lo = filter.addrMin !== undefined ? BigInt(filter.addrMin) : 0n;
    const hi = filter.addrMax !== undefined ? BigInt(filter.addrMax) : U64_MAX;
    const range = {
      lo,
      hi,
      loHi: hiWord(lo),
      loLo: loWord(lo),
      hiHi: hiWord(hi),
      hiLo: loWord(hi),
    };
    tests.push((p) => groupInRange(c, p, range, anyPageIn));
  }
  if (filter.state !== undefined) {
    const want = stateCodes[filter.state];
    tests.push((p) => c.state[p] === want);
  }
  const test = (p: number): boolean => {
    for (const t of tests) if (!t(p)) return false;
    return true;
  };
  return { key: filterKey(filter), hasState: filter.state !== undefined, test };
}

/** [hi, lo] u32 halves compared against a bigint bound without allocating per row. */
function cmp(hi: number, lo: number, boundHi: number, boundLo: number): number {
  return hi !== boundHi ? hi - boundHi : lo - boundLo;
}

const hiWord = (v: bigint): number => Number(v >> 32n);
const loWord = (v: bigint): number => Number(v & 0xffffffffn);

interface Range {
  lo: bigint;
  hi: bigint;
  loHi: number;
  loLo: number;
  hiHi: number;
  hiLo: number;
}

function groupInRange(c: RowColumns, p: number, r: Range, anyPageIn: AnyPageIn): boolean {
  const { loHi, loLo, hiHi, hiLo } = r;
  const minIn = cmp(c.minHi[p]!, c.minLo[p]!, loHi, loLo) >= 0;
  const maxIn = cmp(c.maxHi[p]!, c.maxLo[p]!, hiHi, hiLo) <= 0;
  if (!maxIn && cmp(c.minHi[p]!, c.minLo[p]!, hiHi, hiLo) > 0) return false; // all pages above
  if (!minIn && cmp(c.maxHi[p]!, c.maxLo[p]!, loHi, loLo) < 0) return false; // all pages below
  if (minIn || maxIn) return true; // the lowest or highest page is inside
  // The group's pages straddle the whole range: ask its records.
  return anyPageIn(p, r.lo, r.hi) ?? true;
}
