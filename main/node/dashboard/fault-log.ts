// The dashboard's fault log: a projection of the native queue's exact group
// events. A `read` entry creates a row (one per group, keyed by its sequence
// number), an `answered` entry settles that row; nothing is matched by
// cookie or time. Memory is bounded without ever hiding a pending group:
// when more than `maxGroups` answered rows are kept, the oldest answered
// rows are evicted (counted in `dropped`); pending rows are never evicted, so
// rows = every pending group (exactly the native pending set) + at most
// maxGroups answered ones. Groups whose records the native side left out of
// a batch (overflow; always automatically answered) are counted in
// `skipped`, not rows. The raw 40-byte records are kept in a second bounded
// ring for faults.detail.
import type {
  AnsweredByName,
  FaultDetail,
  FaultFilter,
  FaultRow,
  FaultSort,
} from '../../common/contract';
import { answeredByNames } from '../../common/contract';
import type { DecodedBatch } from '../session/decode-batch';
import { RECORDS_LEFT_OUT } from '../session/decode-batch';
import {
  FaultFlag,
  decodeFaultRecord,
  flagNames,
  formatAddr,
  permString,
} from '../../common/fault-record';
import { compileFilter, isEmptyFilter, type CompiledFilter } from './log-filter';
import { RawRing, type RecordColumns } from './raw-ring';
import { computeStats } from './fault-stats';
import { MAX_STATS_ROWS, type FaultStats } from '../../common/fault-stats';
import { NO_PASID, NO_RULE, NOT_ANSWERED, RowState, RowStore, lowerBound } from './log-rows';
import { SortCache } from './log-sort-cache';

// A million answered rows for the table; past that memory stays flat.
export const DEFAULT_MAX_GROUPS = 1 << 20;
export const DEFAULT_MAX_RAW_RECORDS = 1 << 20;
const MIN_MAX_GROUPS = 16;

export { RowState } from './log-rows';

const stateNames: Record<number, FaultRow['state']> = {
  [RowState.Pending]: 'pending',
  [RowState.Success]: 'success',
  [RowState.Invalid]: 'invalid',
};

/**
 * What the log needs from one session batch: the columnar DecodedBatch the
 * FaultSession emits. Its `records` (the 40 bytes per page exactly as read)
 * go to the raw ring for detail; batches made in TypeScript may omit them
 * (then each page is re-encoded from the columns, reserved word 0).
 */
export type LogBatch = Pick<
  DecodedBatch,
  | 'count'
  | 'cookie'
  | 'devId'
  | 'pasid'
  | 'grpid'
  | 'perm'
  | 'flags'
  | 'addrHi'
  | 'addrLo'
  | 'length'
> & {
  read: Pick<DecodedBatch['read'], 'count' | 'group' | 'cookie' | 'first' | 'pages' | 'readNs'>;
  answered: Pick<
    DecodedBatch['answered'],
    'count' | 'group' | 'code' | 'by' | 'rule' | 'latencyNs'
  >;
  records?: ArrayBuffer;
};

type LogColumns = RecordColumns & { count: number };

export interface FaultLogOptions {
  /** Answered rows kept (pending rows are always kept). */
  maxGroups?: number;
  maxRawRecords?: number;
  /** CLOCK_MONOTONIC ns at session start; readMs is measured from it. */
  startNs: number;
}

interface MatchCache {
  key: string;
  /** Positions of matching rows, ascending. */
  matches: Float64Array;
  count: number;
  /** Positions below this have been scanned. */
  scannedTo: number;
  rowsVersion: number;
  /** For state filters: answers change membership, so the cache dies with them. */
  answerVersion: number;
}

export interface QueryResult {
  total: number;
  rows: FaultRow[];
  /** With `locate`: the group's position under the filter and sort, null when not there. */
  at?: number | null;
}

export class FaultLog {
  private readonly rows = new RowStore();
  private readonly raw: RawRing;
  readonly maxGroups: number;
  private readonly startNs: number;
  /** Rows before this position are pending or gone (where eviction resumes). */
  private readonly evictAt = { at: 0 };
  private answeredRows = 0;
  private pendingRows = 0;
  private answerVersion = 0;
  private cache: MatchCache | undefined;
  private readonly sortCache = new SortCache();
  /** Answered rows evicted because more than maxGroups were kept. */
  dropped = 0;
  /** Groups read whose records never reached the log. */
  skipped = 0;
  /** Groups ever read (rows made + skipped). */
  read = 0;

  constructor(opts: FaultLogOptions) {
    this.maxGroups = Math.max(MIN_MAX_GROUPS, opts.maxGroups ?? DEFAULT_MAX_GROUPS);
    this.raw = new RawRing(opts.maxRawRecords ?? DEFAULT_MAX_RAW_RECORDS);
    this.startNs = opts.startNs;
    this.rows.cursors.push(this.evictAt);
  }

  /** Rows kept (pending + answered). */
  get size(): number {
    return this.rows.live;
  }

  get pendingCount(): number {
    return this.pendingRows;
  }

  get answeredCount(): number {
    return this.answeredRows;
  }

  /** Apply one batch: rows for the groups read, then the answers (which may be for those rows). */
  ingest(b: LogBatch): void {
    const r = b.read;
    // The record columns may be lazy getters: read each once per batch.
    const cols: LogColumns | undefined =
      b.count > 0
        ? {
            count: b.count,
            cookie: b.cookie,
            devId: b.devId,
            pasid: b.pasid,
            grpid: b.grpid,
            perm: b.perm,
            flags: b.flags,
            addrHi: b.addrHi,
            addrLo: b.addrLo,
            length: b.length,
            ...(b.records ? { records: b.records } : {}),
          }
        : undefined;
    for (let i = 0; i < r.count; i++) {
      this.read++;
      const first = r.first[i]!;
      if (first === RECORDS_LEFT_OUT || r.pages[i] === 0 || !cols) {
        this.skipped++;
        continue;
      }
      this.addRow(cols, r, i, first, r.pages[i]!);
    }
    const a = b.answered;
    for (let i = 0; i < a.count; i++) {
      this.answer(a.group[i]!, a.code[i]!, a.by[i]!, a.rule[i]!, a.latencyNs[i]!);
    }
    this.evict();
  }

  private addRow(
    b: LogColumns,
    r: LogBatch['read'],
    i: number,
    first: number,
    pages: number,
  ): void {
    const pos = this.rows.append();
    const c = this.rows.cols;
    c.seq[pos] = r.group[i]!;
    c.cookie[pos] = r.cookie[i]!;
    c.devId[pos] = b.devId[first]!;
    c.pasid[pos] = b.flags[first]! & FaultFlag.PasidValid ? b.pasid[first]! : NO_PASID;
    c.grpid[pos] = b.grpid[first]!;
    c.addrHi[pos] = b.addrHi[first]!;
    c.addrLo[pos] = b.addrLo[first]!;
    let perm = 0;
    let minHi = b.addrHi[first]!;
    let minLo = b.addrLo[first]!;
    let maxHi = minHi;
    let maxLo = minLo;
    const end = Math.min(first + pages, b.count);
    for (let k = first; k < end; k++) {
      perm |= b.perm[k]!;
      const hi = b.addrHi[k]!;
      const lo = b.addrLo[k]!;
      if (hi < minHi || (hi === minHi && lo < minLo)) [minHi, minLo] = [hi, lo];
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) [maxHi, maxLo] = [hi, lo];
    }
    c.perm[pos] = perm >>> 0;
    c.minHi[pos] = minHi;
    c.minLo[pos] = minLo;
    c.maxHi[pos] = maxHi;
    c.maxLo[pos] = maxLo;
    c.pages[pos] = end - first;
    c.readMs[pos] = (r.readNs[i]! - this.startNs) / 1e6;
    c.state[pos] = RowState.Pending;
    c.by[pos] = NOT_ANSWERED;
    c.rule[pos] = NO_RULE;
    c.latencyUs[pos] = NaN;
    c.rawStart[pos] = this.raw.next;
    const seq = r.group[i]!;
    for (let k = first; k < end; k++) this.raw.add(b, k, seq);
    this.pendingRows++;
  }

  private answer(seq: number, code: number, by: number, rule: number, latencyNs: number): void {
    const pos = this.rows.find(seq);
    // A group without a row: its records were left out, or it was answered and evicted.
    if (pos < 0) return;
    const c = this.rows.cols;
    if (c.state[pos] !== RowState.Pending) return;
    c.state[pos] = code === 0 ? RowState.Success : RowState.Invalid;
    c.by[pos] = by;
    c.rule[pos] = rule;
    c.latencyUs[pos] = Number.isFinite(latencyNs) ? latencyNs / 1e3 : NaN;
    this.pendingRows--;
    this.answeredRows++;
    this.answerVersion++;
    if (pos < this.evictAt.at) {
      // Older than every answered row: it is the next to go if the log is full.
      if (this.answeredRows > this.maxGroups) this.drop(pos);
      else this.evictAt.at = pos;
    }
  }

  /** Oldest answered rows out until at most maxGroups are kept; pending rows are skipped. */
  private evict(): void {
    const c = this.rows;
    while (this.answeredRows > this.maxGroups) {
      let p = Math.max(this.evictAt.at, c.head);
      while (
        p < c.end &&
        (c.cols.state[p] === RowState.Pending || c.cols.state[p] === RowState.Gone)
      )
        p++;
      this.evictAt.at = p;
      if (p >= c.end) return; // cannot happen: answeredRows counts rows at or after evictAt
      this.drop(p);
    }
  }

  private drop(pos: number): void {
    this.rows.remove(pos);
    this.answeredRows--;
    this.dropped++;
  }

  /** The row with sequence number `seq`, or undefined when it is not (or no longer) kept. */
  rowByGroup(seq: number): FaultRow | undefined {
    const pos = this.rows.find(seq);
    return pos < 0 ? undefined : this.rowAt(pos);
  }

  private rowAt(pos: number): FaultRow {
    const c = this.rows.cols;
    const by = c.by[pos]!;
    const lat = c.latencyUs[pos]!;
    const pasid = c.pasid[pos]!;
    const rule = c.rule[pos]!;
    return {
      group: String(c.seq[pos]!),
      cookie: c.cookie[pos]!,
      devId: c.devId[pos]!,
      pasid: pasid === NO_PASID ? null : pasid,
      grpid: c.grpid[pos]!,
      perm: c.perm[pos]!,
      addr: formatAddr(c.addrHi[pos]!, c.addrLo[pos]!),
      pages: c.pages[pos]!,
      readMs: c.readMs[pos]!,
      state: stateNames[c.state[pos]!] ?? 'pending',
      by:
        by === NOT_ANSWERED ? null : ((answeredByNames[by] as AnsweredByName | undefined) ?? null),
      rule: rule === NO_RULE || by === NOT_ANSWERED ? null : rule,
      latencyUs: Number.isNaN(lat) ? null : lat,
    };
  }

  /** The newest `n` rows, newest first. */
  newest(n: number): FaultRow[] {
    const out: FaultRow[] = [];
    const c = this.rows;
    for (let p = c.end - 1; p >= c.head && out.length < n; p--) {
      if (c.cols.state[p] !== RowState.Gone) out.push(this.rowAt(p));
    }
    return out;
  }

  /** A row with every page decoded and its raw bytes (pages gone from the raw ring are left out). */
  detail(seq: number): FaultDetail | null {
    const pos = this.rows.find(seq);
    if (pos < 0) return null;
    const row = this.rowAt(pos);
    const pages: FaultDetail['pages'] = [];
    for (const bytes of this.raw.recordsOf(this.rows.cols.rawStart[pos]!, row.pages, seq)) {
      const rec = decodeFaultRecord(new DataView(bytes.buffer));
      pages.push({
        flags: rec.flags,
        flagNames: flagNames(rec.flags),
        devId: rec.devId,
        pasid: rec.pasid,
        grpid: rec.grpid,
        perm: rec.perm,
        permNames: permString(rec.perm).split(''),
        addr: rec.addr,
        length: rec.length,
        cookie: rec.cookie,
        raw: Buffer.from(bytes).toString('hex'),
      });
    }
    return { row, pages };
  }

  /**
   * A page of rows, optionally filtered, in group order or by `sort`; with
   * `locate`, also where that group is in this order.
   */
  query(
    offset: number,
    limit: number,
    filter?: FaultFilter,
    sort?: FaultSort,
    locate?: string,
  ): QueryResult {
    const c = this.rows;
    const rows: FaultRow[] = [];
    const plain = !sort || (sort.key === 'group' && sort.dir === 'asc');
    if (plain && isEmptyFilter(filter) && c.dense) {
      for (let p = c.head + offset; p < c.end && rows.length < limit; p++) rows.push(this.rowAt(p));
      if (locate === undefined) return { total: c.live, rows };
      const pos = this.rows.find(Number(locate));
      return { total: c.live, rows, at: pos < 0 ? null : pos - c.head };
    }
    const m = this.matching(filter ?? {});
    let order = m;
    if (sort && !plain) {
      const f = this.compile(filter ?? {});
      order = this.sortCache.sorted(this.rows, m, f.key, f.hasState, this.answerVersion, sort);
    }
    for (let k = order.from + offset; k < order.count && rows.length < limit; k++) {
      rows.push(this.rowAt(order.matches[k]!));
    }
    const out: QueryResult = { total: order.count - order.from, rows };
    if (locate !== undefined) out.at = this.positionOf(order, Number(locate));
    return out;
  }

  /** Where group `seq` is in `order` (relative to its start), or null. */
  private positionOf(
    order: { matches: Float64Array; from: number; count: number },
    seq: number,
  ): number | null {
    const pos = this.rows.find(seq);
    if (pos < 0) return null;
    for (let k = order.from; k < order.count; k++) {
      if (order.matches[k] === pos) return k - order.from;
    }
    return null;
  }

  /** Per device, per PASID and per conversation statistics of the rows matching `filter`. */
  stats(filter?: FaultFilter, maxConversations = MAX_STATS_ROWS): FaultStats {
    const c = this.rows;
    const test = isEmptyFilter(filter) ? () => true : this.compile(filter ?? {}).test;
    return computeStats(c.cols, c.head, c.end, test, {
      rows: MAX_STATS_ROWS,
      conversations: Math.min(maxConversations, MAX_STATS_ROWS),
    });
  }

  /** Sequence numbers of the pending rows matching `filter` (all pending without one), in order. */
  pendingMatching(filter?: FaultFilter): number[] {
    const f = this.compile({ ...filter, state: 'pending' });
    const c = this.rows;
    const out: number[] = [];
    for (let p = c.head; p < c.end && out.length < this.pendingRows; p++) {
      if (f.test(p)) out.push(c.cols.seq[p]!);
    }
    return out;
  }

  private compile(filter: FaultFilter): CompiledFilter {
    const c = this.rows.cols;
    return compileFilter(filter, c, (pos) =>
      this.raw.recordsOf(c.rawStart[pos]!, c.pages[pos]!, c.seq[pos]!),
    );
  }

  /** Matching positions from the cache, extended with rows logged since. */
  private matching(filter: FaultFilter): { matches: Float64Array; from: number; count: number } {
    const f = this.compile(filter);
    const c = this.rows;
    let cache = this.cache;
    if (
      !cache ||
      cache.key !== f.key ||
      cache.rowsVersion !== c.version ||
      (f.hasState && cache.answerVersion !== this.answerVersion)
    ) {
      cache = {
        key: f.key,
        matches: new Float64Array(1024),
        count: 0,
        scannedTo: c.head,
        rowsVersion: c.version,
        answerVersion: this.answerVersion,
      };
      this.cache = cache;
    }
    for (let p = Math.max(cache.scannedTo, c.head); p < c.end; p++) {
      if (!f.test(p)) continue;
      if (cache.count === cache.matches.length) {
        const grown = new Float64Array(cache.matches.length * 2);
        grown.set(cache.matches);
        cache.matches = grown;
      }
      cache.matches[cache.count++] = p;
    }
    cache.scannedTo = c.end;
    return {
      matches: cache.matches,
      from: lowerBound(cache.matches, cache.count, c.head),
      count: cache.count,
    };
  }
}
