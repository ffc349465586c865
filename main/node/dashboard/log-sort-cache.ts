// The fault log's sorted order, kept between queries (log-sort.ts makes
// it): valid while the filter, the sort and the rows stay, and (when the sort
// key or the filter reads answers) no group was answered. A sort slower than
// SLOW_SORT_MS is not redone on every query while rows stream in: its order
// is reused, without the newest rows or answers, for up to RESORT_FACTOR
// times its cost, so sorting a big live log takes at most a fifth of the
// core's time. Small logs are always sorted fresh.
import type { FaultSort } from '../../common/contract';
import { sortPositions, sortReadsAnswers } from './log-sort';
import type { RowStore } from './log-rows';

const SLOW_SORT_MS = 20;
const RESORT_FACTOR = 4;

export interface Positions {
  matches: Float64Array;
  from: number;
  count: number;
}

interface Entry {
  key: string;
  sorted: Float64Array;
  rowsVersion: number;
  end: number;
  head: number;
  answerVersion: number;
  /** performance.now() when made, and how long the sort took (ms). */
  builtAt: number;
  tookMs: number;
}

export class SortCache {
  private entry: Entry | undefined;

  /**
   * `m` (the matching positions of filter `filterKey`) ordered by `sort`.
   * `filterReadsAnswers`: the filter's membership moves with answers.
   */
  sorted(
    rows: RowStore,
    m: Positions,
    filterKey: string,
    filterReadsAnswers: boolean,
    answerVersion: number,
    sort: FaultSort,
  ): Positions {
    const key = `${filterKey}\u0000${sort.key}:${sort.dir}`;
    const e = this.entry;
    const sameRows = e && e.key === key && e.rowsVersion === rows.version && e.head === rows.head;
    const answersMatter = sortReadsAnswers(sort) || filterReadsAnswers;
    if (
      sameRows &&
      e.end === rows.end &&
      (!answersMatter || e.answerVersion === answerVersion) &&
      e.sorted.length === m.count - m.from
    ) {
      return { matches: e.sorted, from: 0, count: e.sorted.length };
    }
    const now = performance.now();
    if (sameRows && e.tookMs > SLOW_SORT_MS && now - e.builtAt < RESORT_FACTOR * e.tookMs) {
      // Only rows added or answered since: every position in the old order is still live.
      return { matches: e.sorted, from: 0, count: e.sorted.length };
    }
    const sorted = sortPositions(rows.cols, m.matches, m.from, m.count, sort);
    this.entry = {
      key,
      sorted,
      rowsVersion: rows.version,
      end: rows.end,
      head: rows.head,
      answerVersion,
      builtAt: now,
      tookMs: performance.now() - now,
    };
    return { matches: sorted, from: 0, count: sorted.length };
  }
}
