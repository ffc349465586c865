// Sorting the fault log's matching rows for faults.query: the rows stay in
// group order in the RowStore; a query with a sort gets a permutation of
// the matching positions, made once per (filter, sort, log state) and kept
// until the log or (for answer-time keys) an answer changes it. Keys are read
// into typed arrays first so the comparator reads no row objects. Ties go by
// position, which is group order: the sort is stable by group id.
import type { FaultSort, SortKey } from '../../common/contract';
import { NO_PASID, NOT_ANSWERED, RowState, type RowColumns } from './log-rows';

/** Keys whose value moves when a group is answered. */
const ANSWER_KEYS: ReadonlySet<SortKey> = new Set(['state', 'by', 'latency']);

export function sortReadsAnswers(sort: FaultSort): boolean {
  return ANSWER_KEYS.has(sort.key);
}

/** The row's primary and secondary sort values at `p`; NaN when the row has none. */
function keyReader(c: RowColumns, key: SortKey): [(p: number) => number, (p: number) => number] {
  const zero = (): number => 0;
  switch (key) {
    case 'group':
      return [(p) => c.seq[p]!, zero];
    case 'time':
      return [(p) => c.readMs[p]!, zero];
    case 'dev':
      return [(p) => c.devId[p]!, zero];
    case 'pasid':
      return [(p) => (c.pasid[p] === NO_PASID ? NaN : c.pasid[p]!), zero];
    case 'grpid':
      return [(p) => c.grpid[p]!, zero];
    case 'perm':
      return [(p) => c.perm[p]!, zero];
    case 'addr':
      // 64-bit addresses: high word first, then low (a double would round them).
      return [(p) => c.addrHi[p]!, (p) => c.addrLo[p]!];
    case 'pages':
      return [(p) => c.pages[p]!, zero];
    case 'state':
      return [(p) => c.state[p]!, zero];
    case 'by':
      return [(p) => (c.by[p] === NOT_ANSWERED ? NaN : c.by[p]!), zero];
    case 'latency':
      return [(p) => (c.state[p] === RowState.Pending ? NaN : c.latencyUs[p]!), zero];
    case 'cookie':
      return [(p) => c.cookie[p]!, zero];
  }
}

/**
 * `positions[from..count)` (ascending row positions) ordered by `sort`.
 * Returns a new array; the input is not changed.
 */
export function sortPositions(
  c: RowColumns,
  positions: Float64Array,
  from: number,
  count: number,
  sort: FaultSort,
): Float64Array {
  const n = Math.max(0, count - from);
  const out = positions.slice(from, from + n);
  if (sort.key === 'group') return sort.dir === 'asc' ? out : out.reverse();
  const [k1, k2] = keyReader(c, sort.key);
  const packed = INTEGER_KEYS.has(sort.key) && n <= MAX_PACKED_ROWS;
  return packed ? sortPacked(out, k1, sort.dir) : sortCompared(out, k1, k2, sort.dir);
}

/** Keys whose values are u32 integers (or absent): they pack with the index into one double. */
const INTEGER_KEYS: ReadonlySet<SortKey> = new Set([
  'dev',
  'pasid',
  'grpid',
  'perm',
  'pages',
  'state',
  'by',
  'cookie',
]);
const INDEX_BITS = 20;
/** 33 value bits (u32 + absent) and 20 index bits fit a double's 53 exactly. */
const MAX_PACKED_ROWS = 1 << INDEX_BITS;
const ABSENT = 2 ** 32;

/**
 * Integer keys: (value, index) packed into one exact double and sorted with
 * the typed array's own numeric sort (no comparator calls: several times faster).
 */
function sortPacked(
  out: Float64Array,
  key: (p: number) => number,
  dir: FaultSort['dir'],
): Float64Array {
  const n = out.length;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = key(out[i]!);
    // Absent sorts last both ways; descending flips the present values.
    const rank = Number.isNaN(v) ? ABSENT : dir === 'asc' ? v : ABSENT - 1 - v;
    packed[i] = rank * MAX_PACKED_ROWS + i;
  }
  packed.sort();
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = out[packed[i]! % MAX_PACKED_ROWS]!;
  return sorted;
}

function sortCompared(
  out: Float64Array,
  k1: (p: number) => number,
  k2: (p: number) => number,
  dir: FaultSort['dir'],
): Float64Array {
  const n = out.length;
  const sign = dir === 'asc' ? 1 : -1;
  // Absent values sort after every present one, whichever the direction.
  const absent = sign > 0 ? Infinity : -Infinity;
  const a1 = new Float64Array(n);
  const a2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = out[i]!;
    const v = k1(p);
    a1[i] = Number.isNaN(v) ? absent : v;
    a2[i] = k2(p);
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => {
    const d = a1[x]! - a1[y]! || a2[x]! - a2[y]!;
    // Both absent: Infinity - Infinity is NaN, a tie.
    if (d !== 0 && !Number.isNaN(d)) return sign * d;
    return x - y;
  });
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = out[order[i]!]!;
  return sorted;
}
