// The fault log's filter: the common matching language (main/common/filter)
// over the log's row columns. A group is matched as a whole, as policy rules
// match it: permissions are the union of its pages', and `addr` holds when
// any page satisfies it (the later pages are read from the raw ring while it
// keeps them; past that, the first, lowest and highest page are what is known).
import type { FaultFilter } from '../../common/contract';
import { fieldsOf } from '../../common/filter/ast';
import {
  compileFilter as compileExpr,
  readsAnswerState,
  type GroupFacts,
} from '../../common/filter/evaluate';
import { faultFilterExpr } from '../../common/filter/fault-filter';
import { formatFilter } from '../../common/filter/format';
import type { ScalarField } from '../../common/filter/fields';
import { NO_PASID, NOT_ANSWERED, RowState, type RowColumns } from './log-rows';

export interface CompiledFilter {
  /** Same key, same matches (for caches): the filter's canonical text. */
  key: string;
  /** Membership changes with answers (the cache must follow them). */
  hasState: boolean;
  test(pos: number): boolean;
}

/** The group's kept records at row position `pos` (40 bytes each; may be fewer than its pages). */
export type RecordsOf = (pos: number) => Iterable<Uint8Array>;

const ADDR_OFFSET = 24;

export function isEmptyFilter(filter: FaultFilter | undefined): boolean {
  return !filter || Object.values(filter).every((v) => v === undefined);
}

function rowFacts(c: RowColumns, recordsOf: RecordsOf): GroupFacts {
  const u32 = (arr: Uint32Array) => (p: number) => arr[p]!;
  const readers: Record<ScalarField, (p: number) => number> = {
    dev: u32(c.devId),
    pasid: (p) => (c.pasid[p] === NO_PASID ? NaN : c.pasid[p]!),
    grpid: u32(c.grpid),
    cookie: u32(c.cookie),
    pages: u32(c.pages),
    perm: u32(c.perm),
    group: (p) => c.seq[p]!,
    state: (p) => c.state[p]!,
    by: (p) => (c.by[p] === NOT_ANSWERED ? NaN : c.by[p]!),
    code: (p) => (c.state[p] === RowState.Success ? 0 : c.state[p] === RowState.Invalid ? 1 : NaN),
    latency: (p) => (c.state[p] === RowState.Pending ? NaN : c.latencyUs[p]! * 1e3),
  };
  return {
    scalar: (field) => readers[field],
    someAddr(p, test) {
      if (test(c.addrHi[p]!, c.addrLo[p]!)) return true;
      if (c.pages[p]! <= 1) return false;
      if (test(c.minHi[p]!, c.minLo[p]!) || test(c.maxHi[p]!, c.maxLo[p]!)) return true;
      for (const bytes of recordsOf(p)) {
        const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (test(v.getUint32(ADDR_OFFSET + 4, true), v.getUint32(ADDR_OFFSET, true))) return true;
      }
      return false;
    },
  };
}

/**
 * Compile once per query: `c` must stay the current columns while the test
 * is used. Throws a GrammarError for bad filter text.
 */
export function compileFilter(
  filter: FaultFilter,
  c: RowColumns,
  recordsOf: RecordsOf,
): CompiledFilter {
  const { readMsMin, readMsMax, ...rest } = filter;
  const expr = faultFilterExpr(rest);
  const test = compileExpr(expr, rowFacts(c, recordsOf));
  // The read-time range is not a filter-language field: it is checked here, on the column.
  const lo = readMsMin ?? -Infinity;
  const hi = readMsMax ?? Infinity;
  const ranged = readMsMin !== undefined || readMsMax !== undefined;
  return {
    key: ranged ? `${formatFilter(expr)}\u0000read ${lo}..${hi}` : formatFilter(expr),
    hasState: readsAnswerState(fieldsOf(expr)),
    test: ranged
      ? (p) => c.state[p] !== RowState.Gone && c.readMs[p]! >= lo && c.readMs[p]! <= hi && test(p)
      : (p) => c.state[p] !== RowState.Gone && test(p),
  };
}
