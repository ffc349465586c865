// The addon for native tests: the normal build, or IOMMUSCOPE_ADDON when set
// (a private build, so a test run does not race another build of the tree).
import assert from 'node:assert/strict';
import type { FaultBatch, NativeAddon, NativeFaultQueue } from '../../main/node/native/addon-types';
import { loadAddon } from '../../main/node/native/load';

export function addon(): NativeAddon {
  const alt = process.env.IOMMUSCOPE_ADDON;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return alt ? (require(alt) as NativeAddon) : loadAddon();
}

export const RECORDS_LEFT_OUT = 0xffffffff;

export interface Answer {
  group: number;
  cookie: number;
  code: number;
  by: number;
  rule: number;
  latencyNs: number;
}

export interface Read {
  group: number;
  cookie: number;
  pages: number;
  readNs: number;
  /** This group's records as delivered, or null when they were left out. */
  records: ArrayBuffer | null;
}

/** A started queue with everything it delivered collected, flattened. */
export function collect(q: NativeFaultQueue) {
  const seen = {
    batches: [] as FaultBatch[],
    reads: [] as Read[],
    answers: [] as Answer[],
    records: 0,
    errors: [] as FaultBatch['errors'],
  };
  q.start((b) => {
    seen.batches.push(b);
    seen.records += b.records.byteLength / 40;
    seen.errors.push(...b.errors);
    const r = b.read;
    r.group.forEach((group, i) => {
      const first = r.first[i] ?? RECORDS_LEFT_OUT;
      const pages = r.pages[i] ?? 0;
      seen.reads.push({
        group,
        cookie: r.cookie[i] ?? -1,
        pages,
        readNs: r.readNs[i] ?? -1,
        records:
          first === RECORDS_LEFT_OUT ? null : b.records.slice(first * 40, (first + pages) * 40),
      });
    });
    const a = b.answered;
    a.group.forEach((group, i) =>
      seen.answers.push({
        group,
        cookie: a.cookie[i] ?? -1,
        code: a.codes[i] ?? -1,
        by: a.by[i] ?? -1,
        rule: a.rule[i] ?? -2,
        latencyNs: a.latencyNs[i] ?? -1,
      }),
    );
  });
  return seen;
}

/**
 * The exactness invariant: every group read appears once in `reads`, and
 * once in `answers` (never before it was read); nothing is answered that was
 * not read. `pending` lists the groups still unanswered.
 */
export function assertExact(seen: ReturnType<typeof collect>, pending: number[] = []) {
  const readAt = new Map<number, number>();
  seen.reads.forEach((r, i) => {
    assert.equal(readAt.has(r.group), false, `group ${r.group} read twice`);
    readAt.set(r.group, i);
  });
  const answered = new Set<number>();
  for (const a of seen.answers) {
    assert.equal(answered.has(a.group), false, `group ${a.group} answered twice`);
    assert.ok(readAt.has(a.group), `group ${a.group} answered but never read`);
    answered.add(a.group);
  }
  const unanswered = [...readAt.keys()].filter((g) => !answered.has(g));
  assert.deepEqual(unanswered, pending, 'unanswered groups are exactly the pending ones');
}

export interface Rec {
  flags: number;
  devId: number;
  pasid: number;
  grpid: number;
  perm: number;
  addr: bigint;
  cookie: number;
}

export function records(buf: ArrayBuffer | null): Rec[] {
  const out: Rec[] = [];
  if (!buf) return out;
  for (let off = 0; off < buf.byteLength; off += 40) {
    const v = new DataView(buf, off, 40);
    out.push({
      flags: v.getUint32(0, true),
      devId: v.getUint32(4, true),
      pasid: v.getUint32(8, true),
      grpid: v.getUint32(12, true),
      perm: v.getUint32(16, true),
      addr: v.getBigUint64(24, true),
      cookie: v.getUint32(36, true),
    });
  }
  return out;
}

export const spec = (over: Partial<Parameters<NativeFaultQueue['inject']>[0]> = {}) => ({
  count: 1,
  rate: 0,
  pasidMin: 0,
  pasidMax: 0,
  devices: 1,
  groupPages: 1,
  perm: 1,
  addr: 0x10000n,
  ...over,
});

/** For millions of groups: keeps only the group columns, as delivered. */
export function collectLean(q: NativeFaultQueue) {
  const seen = {
    read: [] as Float64Array[],
    answered: [] as Float64Array[],
    reads: 0,
    answers: 0,
    errors: 0,
  };
  q.start((b) => {
    seen.read.push(b.read.group);
    seen.answered.push(b.answered.group);
    seen.reads += b.read.group.length;
    seen.answers += b.answered.group.length;
    seen.errors += b.errors.length;
  });
  return seen;
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** assertExact for collectLean with every group answered: answered is a permutation of read. */
export function assertExactLean(seen: ReturnType<typeof collectLean>) {
  const read = concat(seen.read);
  for (let i = 1; i < read.length; i++) {
    if (!(read[i]! > read[i - 1]!)) assert.fail(`read list not strictly increasing at ${i}`);
  }
  const answered = concat(seen.answered).sort();
  assert.equal(answered.length, read.length, 'as many answers as groups read');
  for (let i = 0; i < read.length; i++) {
    if (answered[i] !== read[i]) assert.fail(`group ${read[i]} not answered exactly once`);
  }
}

export const hold = { rules: [], fallback: { kind: 'hold' as const } };
export const success = { rules: [], fallback: { kind: 'success' as const } };

export type SimQueueOptions = {
  jsBufferRecords?: number;
  outstandingLimit?: number;
  maxReadBytes?: number;
};

/** A sim fault queue flushing every 2 ms. */
export function simQueue(opts: SimQueueOptions = {}) {
  return addon().createFaultQueue({ kind: 'sim', flushIntervalMs: 2, ...opts });
}

/** Runs `fn` on a fresh sim queue watched by `watch`; stops, drains and closes it whatever happens. */
async function withWatchedQueue<T>(
  opts: SimQueueOptions,
  watch: (q: NativeFaultQueue) => T,
  fn: (q: NativeFaultQueue, seen: T) => Promise<void>,
) {
  const q = simQueue(opts);
  const seen = watch(q);
  try {
    await fn(q, seen);
  } finally {
    q.stopInject();
    q.drain(1);
    q.close();
  }
}

/** withWatchedQueue with every batch kept (collect). */
export const withQueue = (
  opts: SimQueueOptions,
  fn: (q: NativeFaultQueue, seen: ReturnType<typeof collect>) => Promise<void>,
) => withWatchedQueue(opts, collect, fn);

/** withWatchedQueue keeping only the group lists (collectLean), for millions of groups. */
export const withLeanQueue = (
  opts: SimQueueOptions,
  fn: (q: NativeFaultQueue, seen: ReturnType<typeof collectLean>) => Promise<void>,
) => withWatchedQueue(opts, collectLean, fn);
