// The fault log's rows: parallel typed arrays (tens of bytes per group), in
// group order (sequence numbers only grow). Rows are removed by marking them
// gone; gone rows are squeezed out in one pass when the arrays are full and at
// least an eighth of them is gone, so removing a row costs O(1) amortised
// and nothing shifts per row. Positions change only at that compaction
// (`version` moves, so position caches know to rebuild).

export const RowState = { Pending: 0, Success: 1, Invalid: 2, Gone: 255 } as const;
export const NO_PASID = 0xffffffff;
export const NOT_ANSWERED = 255;
export const NO_RULE = -1;

const INITIAL_CAPACITY = 1024;

export function rowColumns(n: number) {
  return {
    seq: new Float64Array(n),
    cookie: new Uint32Array(n),
    devId: new Uint32Array(n),
    pasid: new Uint32Array(n),
    grpid: new Uint32Array(n),
    /** Union of the pages' permission bits. */
    perm: new Uint32Array(n),
    /** The first page's address. */
    addrHi: new Uint32Array(n),
    addrLo: new Uint32Array(n),
    /** Lowest and highest page address of the group. */
    minHi: new Uint32Array(n),
    minLo: new Uint32Array(n),
    maxHi: new Uint32Array(n),
    maxLo: new Uint32Array(n),
    pages: new Uint32Array(n),
    readMs: new Float64Array(n),
    state: new Uint8Array(n),
    by: new Uint8Array(n),
    rule: new Int16Array(n),
    latencyUs: new Float64Array(n),
    /** Absolute position of the group's first record in the raw ring. */
    rawStart: new Float64Array(n),
  };
}
export type RowColumns = ReturnType<typeof rowColumns>;
type Column = RowColumns[keyof RowColumns];

export class RowStore {
  cols: RowColumns;
  private capacity = INITIAL_CAPACITY;
  /** Rows occupy positions [0, end); every position below `head` is gone. */
  end = 0;
  head = 0;
  /** Gone rows in [0, end). */
  private gone = 0;
  /** Moves when positions change meaning (compaction) or a row in the middle goes. */
  version = 0;
  /** Position cursors the store keeps valid across compaction (e.g. the eviction scan). */
  readonly cursors: { at: number }[] = [];

  constructor() {
    this.cols = rowColumns(INITIAL_CAPACITY);
  }

  /** Rows not gone. */
  get live(): number {
    return this.end - this.gone;
  }

  /** True when positions head … end-1 are all live (then row k is at head + k). */
  get dense(): boolean {
    return this.gone === this.head;
  }

  /** A position for a new row (at the end, after every existing row). */
  append(): number {
    if (this.end === this.capacity) {
      if (this.gone > 0 && this.gone >= this.capacity / 8) this.compact();
      else this.grow();
    }
    return this.end++;
  }

  remove(pos: number): void {
    if (this.cols.state[pos] === RowState.Gone) return;
    this.cols.state[pos] = RowState.Gone;
    this.gone++;
    if (pos === this.head) {
      while (this.head < this.end && this.cols.state[this.head] === RowState.Gone) this.head++;
    } else {
      this.version++;
    }
  }

  /** Position of the live row with sequence number `seq`, or -1. */
  find(seq: number): number {
    const s = this.cols.seq;
    let lo = this.head;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.end && s[lo] === seq && this.cols.state[lo] !== RowState.Gone ? lo : -1;
  }

  /** First position at or after `from` whose row's seq is greater than `seq`. */
  after(seq: number, from = this.head): number {
    const s = this.cols.seq;
    let lo = Math.max(from, this.head);
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    const next = Math.ceil(this.capacity * 1.5);
    const grown = rowColumns(next);
    for (const key of Object.keys(grown) as (keyof RowColumns)[]) {
      (grown[key] as Column).set(this.cols[key] as never);
    }
    this.cols = grown;
    this.capacity = next;
  }

  private compact(): void {
    const state = this.cols.state;
    const cols = Object.values(this.cols) as Column[];
    let w = 0;
    if (this.gone === this.head) {
      // Only a gone prefix: one memmove per column.
      for (const c of cols) c.copyWithin(0, this.head, this.end);
      for (const cur of this.cursors) cur.at = Math.max(0, cur.at - this.head);
      w = this.end - this.head;
    } else {
      const keep = new Uint32Array(this.live);
      for (let p = 0; p < this.end; p++) if (state[p] !== RowState.Gone) keep[w++] = p;
      for (const c of cols) for (let k = 0; k < w; k++) c[k] = c[keep[k]!]!;
      for (const cur of this.cursors) cur.at = lowerBound(keep, w, cur.at);
    }
    this.end = w;
    this.head = 0;
    this.gone = 0;
    this.version++;
  }
}

/** First index in sorted `a[0..n)` whose value is >= `v`. */
export function lowerBound(a: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
