// The dashboard's record of every page request group a session read, kept in
// columns (typed arrays) so a million rows cost tens of bytes each and a
// filtered scan stays in the milliseconds. Fed only by the session's batches:
// records create rows, `answered` lists move them out of pending. The log is
// bounded: arrays grow by doubling up to `maxGroups`; past that the oldest
// rows are dropped and counted (those groups were still answered natively).
// The raw 40-byte records are kept in a second bounded ring for faults.detail.
import type { AnsweredByName, FaultDetail, FaultFilter, FaultRow } from '../../common/contract';
import { answeredByNames } from '../../common/contract';
import type { DecodedBatch } from '../session/decode-batch';
import {
  FAULT_RECORD_BYTES,
  FaultFlag,
  decodeFaultRecord,
  encodeFaultRecord,
  flagNames,
  formatAddr,
  permString,
} from '../../common/fault-record';
import { fieldsOf, TRUE, type Expr } from '../../common/filter/ast';
import { compileFilter, readsAnswerState } from '../../common/filter/evaluate';
import { faultFilterExpr } from '../../common/filter/fault-filter';
import { formatFilter } from '../../common/filter/format';
import { logFacts } from './log-facts';

// A million rows for the table; once full, memory stays flat (oldest dropped).
export const DEFAULT_MAX_GROUPS = 1 << 20;
export const DEFAULT_MAX_RAW_RECORDS = 1 << 20;
const INITIAL_CAPACITY = 1024;
const NO_PASID = 0xffffffff;

/** Answered: the queue answered it, but the answer itself was lost (see reconcile). */
export const RowState = { Pending: 0, Success: 1, Invalid: 2, Answered: 3 } as const;
const stateNames = ['pending', 'success', 'invalid', 'answered'] as const;
const NOT_ANSWERED = 255;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * What the log needs from one session batch: the columnar DecodedBatch the
 * FaultSession emits. Its `records` (the 40 bytes per page exactly as read)
 * go to the raw ring for detail. Batches made in TypeScript may omit them:
 * then each page is re-encoded from the columns, with the reserved word 0.
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
  | 'readNs'
> & {
  answered: Pick<DecodedBatch['answered'], 'count' | 'cookie' | 'code' | 'by' | 'latencyNs'>;
  records?: ArrayBuffer;
};

export interface FaultLogOptions {
  maxGroups?: number;
  maxRawRecords?: number;
  /** CLOCK_MONOTONIC ns at session start; readMs is measured from it. */
  startNs: number;
}

type Column = Uint32Array | Float64Array | Uint8Array;

/**
 * A set of parallel typed arrays addressed by an absolute position: slot =
 * pos % capacity. Capacity doubles up to `max` while nothing has been
 * dropped, so the mapping stays valid across growth.
 */
class Columns<T extends Record<string, Column>> {
  constructor(
    /** Positions the arrays hold now (a column may hold several elements per position). */
    public capacity: number,
    readonly max: number,
    public cols: T,
  ) {}

  /** Make room for absolute position `pos`; false when full (caller drops the oldest). */
  ensure(pos: number): boolean {
    if (pos < this.capacity) return true;
    if (this.capacity >= this.max) return false;
    const next = Math.min(this.capacity * 2, this.max);
    for (const key of Object.keys(this.cols) as (keyof T)[]) {
      const old = this.cols[key] as Column;
      const Ctor = old.constructor as new (n: number) => Column;
      const grown = new Ctor(next * (old.length / this.capacity));
      grown.set(old as never);
      this.cols[key] = grown as T[keyof T];
    }
    this.capacity = next;
    return true;
  }
}

function groupColumns(n: number) {
  return {
    cookie: new Uint32Array(n),
    devId: new Uint32Array(n),
    pasid: new Uint32Array(n),
    grpid: new Uint32Array(n),
    perm: new Uint32Array(n),
    addrHi: new Uint32Array(n),
    addrLo: new Uint32Array(n),
    pages: new Uint32Array(n),
    readMs: new Float64Array(n),
    state: new Uint8Array(n),
    by: new Uint8Array(n),
    latencyUs: new Float64Array(n),
    /** Absolute raw-record position of the group's first page. */
    rawStart: new Float64Array(n),
  };
}

function rawColumns(n: number) {
  return { bytes: new Uint8Array(n * FAULT_RECORD_BYTES), owner: new Float64Array(n) };
}

/** A filter compiled once per query: typed-array reads only inside the scan. */
interface CompiledQuery {
  key: string;
  hasState: boolean;
  /** By slot (absolute index % capacity). */
  test(slot: number): boolean;
}

interface MatchCache {
  key: string;
  /** Absolute indices of matching rows, ascending. */
  matches: Float64Array;
  count: number;
  /** Rows below this absolute index have been scanned. */
  scannedTo: number;
  /** For state filters: answers change membership, so the cache dies with them. */
  answerVersion: number;
}

export interface QueryResult {
  total: number;
  rows: FaultRow[];
}

export class FaultLog {
  private readonly groups: Columns<ReturnType<typeof groupColumns>>;
  private readonly raw: Columns<ReturnType<typeof rawColumns>>;
  /** Absolute index of the next row; rows [base, next) are kept. */
  private next = 0;
  private base = 0;
  private rawNext = 0;
  private rawBase = 0;
  /** Cookie → absolute index of the oldest pending row with it. */
  private readonly pendingByCookie = new Map<number, number>();
  /** Further pending rows sharing a cookie (the kernel reuses cookies after an answer). */
  private readonly laterByCookie = new Map<number, number[]>();
  /** Cookie → row of a group whose LAST_PAGE has not been read yet. */
  private readonly openByCookie = new Map<number, number>();
  private answerVersion = 0;
  private words: Uint32Array | undefined;
  private cache: MatchCache | undefined;
  private readonly startNs: number;
  /** Answers counted by who gave them, including rows already dropped. */
  readonly answeredBy = [0, 0, 0, 0];
  /** Groups found answered by reconcile(): their answers were never delivered. */
  answeredUnknown = 0;

  constructor(opts: FaultLogOptions) {
    const maxGroups = Math.max(INITIAL_CAPACITY, opts.maxGroups ?? DEFAULT_MAX_GROUPS);
    const maxRaw = Math.max(INITIAL_CAPACITY, opts.maxRawRecords ?? DEFAULT_MAX_RAW_RECORDS);
    this.groups = new Columns(INITIAL_CAPACITY, maxGroups, groupColumns(INITIAL_CAPACITY));
    this.raw = new Columns(INITIAL_CAPACITY, maxRaw, rawColumns(INITIAL_CAPACITY));
    this.startNs = opts.startNs;
  }

  /** Rows currently kept. */
  get size(): number {
    return this.next - this.base;
  }

  /** Rows dropped because the log was full. */
  get dropped(): number {
    return this.base;
  }

  /** Absolute index the next row will get (= rows ever logged). */
  get logged(): number {
    return this.next;
  }

  get pendingCount(): number {
    return (
      this.pendingByCookie.size + [...this.laterByCookie.values()].reduce((n, l) => n + l.length, 0)
    );
  }

  /** Apply one batch: new rows first, then the answers (which may be for those rows). */
  ingest(batch: LogBatch): void {
    this.addRecords(batch);
    const a = batch.answered;
    for (let i = 0; i < a.count; i++) {
      this.answer(a.cookie[i]!, a.code[i]! as 0 | 1, a.by[i]!, a.latencyNs[i]!);
    }
  }

  private addRecords(b: LogBatch): void {
    const rawBytes = b.records ? new Uint8Array(b.records) : undefined;
    for (let r = 0; r < b.count; r++) {
      const cookie = b.cookie[r]!;
      const flags = b.flags[r]!;
      let index = this.openByCookie.get(cookie);
      if (index === undefined || index < this.base) {
        index = this.newRow(b, r);
        if ((flags & FaultFlag.LastPage) === 0) this.openByCookie.set(cookie, index);
      } else {
        // A later page of an open group: the row's perm is the union.
        this.groups.cols.perm[index % this.groups.capacity]! |= b.perm[r]!;
        if (flags & FaultFlag.LastPage) this.openByCookie.delete(cookie);
      }
      this.addRaw(b, r, rawBytes, index);
      this.groups.cols.pages[index % this.groups.capacity]! += 1;
    }
  }

  private newRow(b: LogBatch, r: number): number {
    const index = this.next;
    if (!this.groups.ensure(index)) this.base++;
    this.next++;
    const c = this.groups.cols;
    const s = index % this.groups.capacity;
    const cookie = b.cookie[r]!;
    c.cookie[s] = cookie;
    c.devId[s] = b.devId[r]!;
    c.pasid[s] = b.flags[r]! & FaultFlag.PasidValid ? b.pasid[r]! : NO_PASID;
    c.grpid[s] = b.grpid[r]!;
    c.perm[s] = b.perm[r]!;
    c.addrLo[s] = b.addrLo[r]!;
    c.addrHi[s] = b.addrHi[r]!;
    c.pages[s] = 0;
    c.readMs[s] = this.toReadMs(b.readNs[r] ?? this.startNs);
    c.state[s] = RowState.Pending;
    c.by[s] = NOT_ANSWERED;
    c.latencyUs[s] = NaN;
    c.rawStart[s] = this.rawNext;
    this.addPending(cookie, index);
    return index;
  }

  /** Row `index` waits for an answer; behind older rows with the same cookie. */
  private addPending(cookie: number, index: number): void {
    if (!this.pendingByCookie.has(cookie)) {
      this.pendingByCookie.set(cookie, index);
      return;
    }
    const later = this.laterByCookie.get(cookie);
    if (later) later.push(index);
    else this.laterByCookie.set(cookie, [index]);
  }

  private addRaw(b: LogBatch, r: number, rawBytes: Uint8Array | undefined, owner: number): void {
    const pos = this.rawNext;
    if (!this.raw.ensure(pos)) this.rawBase++;
    this.rawNext++;
    const s = pos % this.raw.capacity;
    const at = s * FAULT_RECORD_BYTES;
    const bytes = this.raw.cols.bytes;
    if (rawBytes) {
      bytes.set(rawBytes.subarray(r * FAULT_RECORD_BYTES, (r + 1) * FAULT_RECORD_BYTES), at);
    } else if (LITTLE_ENDIAN) {
      // The record's ten u32 words straight from the columns (no per-page objects).
      const w = this.rawWords();
      const o = at / 4;
      w[o] = b.flags[r]!;
      w[o + 1] = b.devId[r]!;
      w[o + 2] = b.pasid[r]!;
      w[o + 3] = b.grpid[r]!;
      w[o + 4] = b.perm[r]!;
      w[o + 5] = 0;
      w[o + 6] = b.addrLo[r]!;
      w[o + 7] = b.addrHi[r]!;
      w[o + 8] = b.length[r]!;
      w[o + 9] = b.cookie[r]!;
    } else {
      encodeFaultRecord(
        {
          flags: b.flags[r]!,
          devId: b.devId[r]!,
          pasid: b.pasid[r]!,
          grpid: b.grpid[r]!,
          perm: b.perm[r]!,
          addrHi: b.addrHi[r]!,
          addrLo: b.addrLo[r]!,
          length: b.length[r]!,
          cookie: b.cookie[r]!,
        },
        new DataView(bytes.buffer, bytes.byteOffset + at, FAULT_RECORD_BYTES),
      );
    }
    this.raw.cols.owner[s] = owner;
  }

  private answer(cookie: number, code: 0 | 1, by: number, latencyNs: number): void {
    if (by < this.answeredBy.length) this.answeredBy[by]!++;
    const index = this.pendingByCookie.get(cookie);
    if (index === undefined) return;
    const later = this.laterByCookie.get(cookie);
    if (later && later.length > 0) {
      this.pendingByCookie.set(cookie, later.shift()!);
      if (later.length === 0) this.laterByCookie.delete(cookie);
    } else {
      this.pendingByCookie.delete(cookie);
    }
    this.answerVersion++;
    if (index < this.base) return;
    const s = index % this.groups.capacity;
    const c = this.groups.cols;
    c.state[s] = code === 0 ? RowState.Success : RowState.Invalid;
    c.by[s] = by;
    c.latencyUs[s] = Number.isFinite(latencyNs) ? latencyNs / 1e3 : NaN;
  }

  /**
   * Settle rows whose answers were lost (the native answered list overflowed):
   * every row pending here but not in `stillPending` (the queue's pending
   * groups, taken when no answer or read happened since the last batch) was
   * answered, code and answerer unknown: state 'answered', counted in
   * answeredUnknown. A row matches a pending group by cookie and read time,
   * as cookies are reused. Returns how many rows were settled.
   */
  reconcile(stillPending: readonly { cookie: number; readNs: number }[]): number {
    const live = new Set(stillPending.map((g) => `${g.cookie}:${this.toReadMs(g.readNs)}`));
    const liveCookies = new Set(stillPending.map((g) => g.cookie));
    const entries: [number, number][] = [];
    for (const [cookie, index] of this.pendingByCookie) entries.push([cookie, index]);
    for (const [cookie, list] of this.laterByCookie)
      for (const i of list) entries.push([cookie, i]);
    entries.sort((a, b) => a[1] - b[1]);
    const c = this.groups.cols;
    const kept: [number, number][] = [];
    let settled = 0;
    for (const [cookie, index] of entries) {
      const s = index % this.groups.capacity;
      // A row already dropped has no read time left: only its cookie can tell.
      const pending =
        index < this.base ? liveCookies.has(cookie) : live.has(`${cookie}:${c.readMs[s]}`);
      if (pending) {
        kept.push([cookie, index]);
        continue;
      }
      if (index >= this.base) c.state[s] = RowState.Answered;
      if (this.openByCookie.get(cookie) === index) this.openByCookie.delete(cookie);
      settled++;
    }
    if (settled === 0) return 0;
    this.pendingByCookie.clear();
    this.laterByCookie.clear();
    for (const [cookie, index] of kept) this.addPending(cookie, index);
    this.answeredUnknown += settled;
    this.answerVersion++;
    return settled;
  }

  private toReadMs(readNs: number): number {
    return (readNs - this.startNs) / 1e6;
  }

  /** A u32 view of the raw ring, rebuilt when the ring grows. */
  private rawWords(): Uint32Array {
    const bytes = this.raw.cols.bytes;
    if (this.words?.buffer !== bytes.buffer) this.words = new Uint32Array(bytes.buffer);
    return this.words;
  }

  /** Absolute index of the pending row with `cookie`, if any. */
  pendingIndex(cookie: number): number | undefined {
    const i = this.pendingByCookie.get(cookie);
    return i !== undefined && i >= this.base ? i : undefined;
  }

  /** One row by absolute index, or undefined when dropped or not yet read. */
  row(index: number): FaultRow | undefined {
    if (!Number.isInteger(index) || index < this.base || index >= this.next) return undefined;
    const c = this.groups.cols;
    const s = index % this.groups.capacity;
    const by = c.by[s]!;
    const lat = c.latencyUs[s]!;
    const pasid = c.pasid[s]!;
    return {
      index,
      cookie: c.cookie[s]!,
      devId: c.devId[s]!,
      pasid: pasid === NO_PASID ? null : pasid,
      grpid: c.grpid[s]!,
      perm: c.perm[s]!,
      addr: formatAddr(c.addrHi[s]!, c.addrLo[s]!),
      pages: c.pages[s]!,
      readMs: c.readMs[s]!,
      state: stateNames[c.state[s]!]!,
      by:
        by === NOT_ANSWERED ? null : ((answeredByNames[by] as AnsweredByName | undefined) ?? null),
      latencyUs: Number.isNaN(lat) ? null : lat,
    };
  }

  /** The newest `n` rows, newest first. */
  newest(n: number): FaultRow[] {
    const out: FaultRow[] = [];
    for (let i = this.next - 1; i >= this.base && out.length < n; i--) out.push(this.row(i)!);
    return out;
  }

  /**
   * A row with every page decoded and its raw bytes. `index` picks one row
   * when the cookie was reused; without it the newest row with the cookie.
   */
  detail(cookie: number, index?: number): FaultDetail | null {
    const at = index ?? this.findByCookie(cookie);
    if (at === undefined) return null;
    const row = this.row(at);
    if (!row || row.cookie !== cookie) return null;
    const pages: FaultDetail['pages'] = [];
    const start = this.groups.cols.rawStart[at % this.groups.capacity]!;
    // Pages of one group are read together, so this walk is short; it stops
    // at the end of what is kept when the raw ring has moved on.
    for (let p = Math.max(start, this.rawBase); p < this.rawNext && pages.length < row.pages; p++) {
      const s = p % this.raw.capacity;
      if (this.raw.cols.owner[s] !== at) continue;
      const bytes = this.raw.cols.bytes.slice(s * FAULT_RECORD_BYTES, (s + 1) * FAULT_RECORD_BYTES);
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

  private findByCookie(cookie: number): number | undefined {
    const pending = this.pendingIndex(cookie);
    if (pending !== undefined) return pending;
    const c = this.groups.cols.cookie;
    for (let i = this.next - 1; i >= this.base; i--) {
      if (c[i % this.groups.capacity] === cookie) return i;
    }
    return undefined;
  }

  /** A page of rows in log order, optionally filtered (FaultFilter: structured fields and/or filter text). */
  query(offset: number, limit: number, filter?: FaultFilter): QueryResult {
    const expr = filter ? faultFilterExpr(filter) : TRUE;
    if (expr.kind === 'true') {
      const total = this.size;
      const rows: FaultRow[] = [];
      for (let i = this.base + offset; i < this.next && rows.length < limit; i++) {
        rows.push(this.row(i)!);
      }
      return { total, rows };
    }
    const { matches, from, count } = this.matching(expr);
    const rows: FaultRow[] = [];
    for (let k = from + offset; k < count && rows.length < limit; k++) {
      rows.push(this.row(matches[k]!)!);
    }
    return { total: count - from, rows };
  }

  /** Absolute indices of pending rows matching `filter` (all pending without one). */
  pendingMatching(filter?: FaultFilter): { cookie: number; index: number }[] {
    const expr = filter ? faultFilterExpr(filter) : TRUE;
    const f = expr.kind === 'true' ? undefined : this.compile(expr);
    const out: { cookie: number; index: number }[] = [];
    const visit = (index: number, cookie: number): void => {
      if (index < this.base) return;
      if (!f || f.test(index % this.groups.capacity)) out.push({ cookie, index });
    };
    for (const [cookie, index] of this.pendingByCookie) visit(index, cookie);
    for (const [cookie, list] of this.laterByCookie) for (const i of list) visit(i, cookie);
    return out.sort((a, b) => a.index - b.index);
  }

  /** Matching indices from the cache, extended with rows logged since. */
  private matching(expr: Expr): { matches: Float64Array; from: number; count: number } {
    const f = this.compile(expr);
    let cache = this.cache;
    if (
      !cache ||
      cache.key !== f.key ||
      (f.hasState && cache.answerVersion !== this.answerVersion)
    ) {
      cache = {
        key: f.key,
        matches: new Float64Array(1024),
        count: 0,
        scannedTo: this.base,
        answerVersion: this.answerVersion,
      };
      this.cache = cache;
    }
    const cap = this.groups.capacity;
    for (let i = Math.max(cache.scannedTo, this.base); i < this.next; i++) {
      if (!f.test(i % cap)) continue;
      if (cache.count === cache.matches.length) {
        const grown = new Float64Array(cache.matches.length * 2);
        grown.set(cache.matches);
        cache.matches = grown;
      }
      cache.matches[cache.count++] = i;
    }
    cache.scannedTo = this.next;
    return {
      matches: cache.matches,
      from: lowerBound(cache.matches, cache.count, this.base),
      count: cache.count,
    };
  }

  private compile(expr: Expr): CompiledQuery {
    const facts = logFacts(
      this.groups,
      { base: this.base, next: this.next },
      {
        ...this.raw,
        base: this.rawBase,
        next: this.rawNext,
      },
    );
    return {
      key: formatFilter(expr),
      hasState: readsAnswerState(fieldsOf(expr)),
      test: compileFilter(expr, facts),
    };
  }
}

/** First position in sorted `a[0..n)` whose value is >= `v`. */
function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
