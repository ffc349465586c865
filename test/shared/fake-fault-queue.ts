// A TypeScript stand-in for the native simulated fault queue, following the
// addon contract (main/node/native/addon-types.ts) exactly: group sequence
// numbers unique per process, cookies handed out lowest-free (as the
// kernel), every group read once in `read` and answered once in `answered`,
// exact per-answerer totals, ESTALE refusals naming who answered and when,
// PRI credit (outstandingLimit), records of automatically answered groups
// left out past jsBufferRecords (counted in overflow). For tests of the
// TypeScript layers while the native side is built elsewhere; it is not a
// model of timing.
import {
  AnsweredBy,
  type AnswerFailure,
  type FaultBatch,
  type FaultQueueOptions,
  type GroupSeq,
  type InjectProgress,
  type InjectSpec,
  type NativeAction,
  type NativeAddon,
  type NativeFaultQueue,
  type NativePolicy,
  type PendingGroup,
  type QueueTotals,
  type RespondResult,
  type SysfsRequest,
  type SysfsResult,
} from '../../main/node/native/addon-types';
import { evalNativeMatch } from './native-match-eval';
import { nodeReader } from '../../main/node/topology/sysfs-reader';
import { zeroQueueTotals } from '../../main/node/native/queue-totals';

const RECORD_BYTES = 40;
const LEFT_OUT = 0xffffffff;
const RECENT_ANSWERS = 65_536;
let nextQueueId = 1;
let nextGroupSeq = 1;

const monoNs = (): number => Number(process.hrtime.bigint());

interface Group {
  group: GroupSeq;
  cookie: number;
  devId: number;
  pasid: number;
  grpid: number;
  readNs: number;
  records: Uint8Array;
  pages: number;
  perm: number;
  addrs: bigint[];
}

interface Answer {
  group: GroupSeq;
  cookie: number;
  code: 0 | 1;
  by: AnsweredBy;
  rule: number;
  latencyNs: number;
}

function argError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'EARG' });
}

export class FakeSimQueue implements NativeFaultQueue {
  readonly id = nextQueueId++;
  closed = false;
  private onBatch: ((b: FaultBatch) => void) | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private injectTimer: NodeJS.Timeout | undefined;
  private policy: NativePolicy = { rules: [], fallback: { kind: 'hold' } };
  private readonly pendingGroups = new Map<GroupSeq, Group>();
  private readonly freeCookies: number[] = [];
  private nextFreshCookie = 1;
  private readonly recent = new Map<
    GroupSeq,
    { by: AnsweredBy; code: 0 | 1; atNs: number; cookie: number }
  >();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private read: Group[] = [];
  private answers: Answer[] = [];
  private readonly t = zeroQueueTotals();
  private injectSpec: InjectSpec | undefined;
  private injectProgressValue: InjectProgress | undefined;
  private injectedGroups = 0;
  private refuse = 0;
  private detached = false;
  private readonly flushMs: number;
  private readonly jsBufferRecords: number;
  private readonly outstandingLimit: number;
  private dirty = false;

  constructor(opts: Extract<FaultQueueOptions, { kind: 'sim' }>) {
    this.flushMs = opts.flushIntervalMs ?? 10;
    this.jsBufferRecords = opts.jsBufferRecords ?? 65_536;
    this.outstandingLimit = opts.outstandingLimit ?? 512;
  }

  start(onBatch: (batch: FaultBatch) => void): void {
    this.onBatch = onBatch;
    this.flushTimer = setInterval(() => this.flush(), this.flushMs);
    this.flushTimer.unref();
  }

  setPolicy(policy: NativePolicy): void {
    this.policy = policy;
  }

  respond(groups: GroupSeq[] | Float64Array, code: 0 | 1): RespondResult {
    if (code !== 0 && code !== 1) throw argError(`respond: code ${String(code)} must be 0 or 1`);
    const out: RespondResult = { ok: [], failed: [] };
    for (const seq of groups) {
      const g = this.pendingGroups.get(seq);
      if (!g) {
        out.failed.push(this.stale(seq));
        continue;
      }
      if (this.refuse > 0) {
        // EINVAL for a well-formed answer: the kernel no longer knew the
        // cookie (it answered INVALID itself), so the group is the kernel's.
        this.refuse--;
        this.answer(g, 1, AnsweredBy.Kernel, -1);
        out.failed.push({
          group: seq,
          cookie: g.cookie,
          code: 'EINVAL',
          errno: 22,
          message: `the fault queue refused the answer for group ${seq} (cookie ${g.cookie}): EINVAL; recorded as answered by the kernel`,
        });
        continue;
      }
      this.answer(g, code, AnsweredBy.User, -1);
      out.ok.push(seq);
    }
    return out;
  }

  private stale(seq: GroupSeq): AnswerFailure {
    const r = this.recent.get(seq);
    if (!r) {
      return {
        group: seq,
        cookie: null,
        code: 'ESTALE',
        errno: 116,
        message: `group ${seq} was never read from queue ${this.id}`,
      };
    }
    const by = ['user', 'policy', 'drain', 'kernel'][r.by];
    return {
      group: seq,
      cookie: r.cookie,
      code: 'ESTALE',
      errno: 116,
      message: `group ${seq} is not pending: answered ${r.code === 0 ? 'success' : 'invalid'} by ${by}`,
      answeredBy: r.by,
      answeredCode: r.code,
      answeredAtNs: r.atNs,
    };
  }

  drain(code: 0 | 1, groups?: GroupSeq[] | Float64Array): number {
    if (code !== 0 && code !== 1) throw argError(`drain: code ${String(code)} must be 0 or 1`);
    const targets = groups
      ? Array.from(groups, (s) => this.pendingGroups.get(s)).filter((g): g is Group => !!g)
      : [...this.pendingGroups.values()];
    let n = 0;
    for (const g of targets) {
      if (!this.pendingGroups.has(g.group)) continue;
      this.answer(g, code, AnsweredBy.Drain, -1);
      n++;
    }
    return n;
  }

  pending(): PendingGroup[] {
    return [...this.pendingGroups.values()].map((g) => ({
      group: g.group,
      cookie: g.cookie,
      devId: g.devId,
      pasid: g.pasid,
      grpid: g.grpid,
      readNs: g.readNs,
      records: g.records.slice().buffer,
    }));
  }

  totals(): QueueTotals {
    return { ...this.t, pending: this.pendingGroups.size };
  }

  inject(spec: InjectSpec): void {
    if (this.closed)
      throw Object.assign(new Error('inject: the queue is closed'), { code: 'EBADF' });
    if (!Number.isInteger(spec.count) || spec.count < 0)
      throw argError('inject: count must be an integer >= 0');
    if (spec.groupPages < 1 || spec.devices < 1)
      throw argError('inject: groupPages and devices must be >= 1');
    this.stopInject();
    this.injectSpec = spec;
    this.injectedGroups = 0;
    this.injectProgressValue = { injected: 0, failed: 0, done: spec.count === 0 };
    const startedNs = monoNs();
    const tick = (): void => {
      const s = this.injectSpec;
      const p = this.injectProgressValue;
      if (!s || !p || p.done) return;
      const due =
        s.rate > 0
          ? Math.min(s.count, Math.floor(((monoNs() - startedNs) / 1e9) * s.rate) + 1)
          : s.count;
      while (
        p.injected < due &&
        this.pendingGroups.size < this.outstandingLimit &&
        !this.detached
      ) {
        const pages = Math.min(s.groupPages, s.count - p.injected);
        this.readGroup(s, pages);
        p.injected += pages;
      }
      if (p.injected >= s.count) p.done = true;
    };
    this.injectTimer = setInterval(tick, 1);
    this.injectTimer.unref();
    tick();
  }

  injectTimes(): Float64Array {
    return new Float64Array(0);
  }

  stopInject(): void {
    if (this.injectTimer) clearInterval(this.injectTimer);
    this.injectTimer = undefined;
    if (this.injectProgressValue) this.injectProgressValue.done = true;
  }

  injectProgress(): InjectProgress {
    return { ...(this.injectProgressValue ?? { injected: 0, failed: 0, done: true }) };
  }

  simDetach(): number {
    this.detached = true;
    let n = 0;
    for (const g of [...this.pendingGroups.values()]) {
      this.answer(g, 1, AnsweredBy.Kernel, -1);
      n++;
    }
    return n;
  }

  simRefuseAnswers(count: number): void {
    this.refuse = count;
  }

  kernelDetached(): number {
    throw Object.assign(new Error('kernelDetached: not a kernel queue'), { code: 'EINVAL' });
  }

  close(): void {
    if (this.closed) return;
    this.stopInject();
    if (this.flushTimer) clearInterval(this.flushTimer);
    for (const t of this.delayed) clearTimeout(t);
    this.closed = true;
    // The final flush lands as a queued callback, as the native one does.
    if (this.read.length || this.answers.length || this.dirty) setImmediate(() => this.flush(true));
  }

  // --- the simulated kernel side -------------------------------------------------

  /** The kernel's rule: the lowest cookie not in use (a min-heap of freed ones + the next fresh one). */
  private lowestFreeCookie(): number {
    const heap = this.freeCookies;
    if (heap.length === 0) return this.nextFreshCookie++;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]! < heap[m]!) m = l;
        if (r < heap.length && heap[r]! < heap[m]!) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  private freeCookie(c: number): void {
    const heap = this.freeCookies;
    heap.push(c);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= heap[i]!) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private readGroup(s: InjectSpec, pages: number): void {
    const k = this.injectedGroups++;
    const span = s.pasidMax - s.pasidMin + 1;
    const pasid = s.pasidMin + (k % span);
    const devId = 1 + (k % s.devices);
    const grpid = k & 0x1ff;
    const cookie = this.lowestFreeCookie();
    const records = new Uint8Array(pages * RECORD_BYTES);
    const v = new DataView(records.buffer);
    const addrs: bigint[] = [];
    const first = s.addr + BigInt(this.t.faults) * 4096n;
    for (let p = 0; p < pages; p++) {
      const o = p * RECORD_BYTES;
      const addr = first + BigInt(p) * 4096n;
      addrs.push(addr);
      v.setUint32(o, (pasid > 0 ? 1 : 0) | (p === pages - 1 ? 2 : 0), true);
      v.setUint32(o + 4, devId, true);
      v.setUint32(o + 8, pasid, true);
      v.setUint32(o + 12, grpid, true);
      v.setUint32(o + 16, s.perm, true);
      v.setBigUint64(o + 24, addr, true);
      v.setUint32(o + 32, 0, true); // length: 0, as the kernel's and the native sim's PRI records
      v.setUint32(o + 36, cookie, true);
    }
    const g: Group = {
      group: nextGroupSeq++,
      cookie,
      devId,
      pasid: pasid > 0 ? pasid : 0xffffffff,
      grpid,
      readNs: monoNs(),
      records,
      pages,
      perm: s.perm,
      addrs,
    };
    this.t.faults += pages;
    this.t.groups++;
    this.t.reads++;
    this.pendingGroups.set(g.group, g);
    this.read.push(g);
    this.dirty = true;
    this.applyPolicy(g);
  }

  private applyPolicy(g: Group): void {
    const rules = this.policy.rules;
    let rule = -1;
    let action: NativeAction = this.policy.fallback;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!evalNativeMatch(r.match, g)) continue;
      rule = i;
      action = r.action;
      break;
    }
    switch (action.kind) {
      case 'hold':
        return;
      case 'success':
      case 'map':
        return this.answer(g, 0, AnsweredBy.Policy, rule);
      case 'invalid':
        return this.answer(g, 1, AnsweredBy.Policy, rule);
      case 'delay': {
        const t = setTimeout(() => {
          this.delayed.delete(t);
          if (this.pendingGroups.has(g.group)) this.answer(g, action.code, AnsweredBy.Policy, rule);
        }, action.ns / 1e6);
        t.unref();
        this.delayed.add(t);
      }
    }
  }

  private answer(g: Group, code: 0 | 1, by: AnsweredBy, rule: number): void {
    const now = monoNs();
    this.pendingGroups.delete(g.group);
    this.freeCookie(g.cookie);
    this.answers.push({
      group: g.group,
      cookie: g.cookie,
      code,
      by,
      rule,
      latencyNs: now - g.readNs,
    });
    this.recent.set(g.group, { by, code, atNs: now, cookie: g.cookie });
    if (this.recent.size > RECENT_ANSWERS) this.recent.delete(this.recent.keys().next().value!);
    const t = this.t;
    t.answered++;
    if (code === 0) t.success++;
    else t.invalid++;
    if (by === AnsweredBy.User) t.byUser++;
    else if (by === AnsweredBy.Policy) t.byPolicy++;
    else if (by === AnsweredBy.Drain) t.byDrain++;
    else t.byKernel++;
    this.dirty = true;
  }

  private flush(final = false): void {
    if (!this.onBatch || (!this.dirty && !final)) return;
    if (this.closed && !final) return;
    const read = this.read;
    const answers = this.answers;
    this.read = [];
    this.answers = [];
    this.dirty = false;
    // Records of groups already answered automatically beyond the cap are left out.
    const autoAnswered = new Set(
      answers.filter((a) => a.by === AnsweredBy.Policy).map((a) => a.group),
    );
    let records = 0;
    let overflow = 0;
    const first = new Uint32Array(read.length);
    read.forEach((g, i) => {
      if (records + g.pages > this.jsBufferRecords && autoAnswered.has(g.group)) {
        first[i] = LEFT_OUT;
        overflow += g.pages;
      } else {
        first[i] = records;
        records += g.pages;
      }
    });
    const bytes = new Uint8Array(records * RECORD_BYTES);
    read.forEach((g, i) => {
      if (first[i] !== LEFT_OUT) bytes.set(g.records, first[i]! * RECORD_BYTES);
    });
    this.t.overflow += overflow;
    this.onBatch({
      queue: this.id,
      read: {
        group: Float64Array.from(read, (g) => g.group),
        cookie: Uint32Array.from(read, (g) => g.cookie),
        first,
        pages: Uint32Array.from(read, (g) => g.pages),
        readNs: Float64Array.from(read, (g) => g.readNs),
      },
      records: bytes.buffer,
      answered: {
        group: Float64Array.from(answers, (a) => a.group),
        cookie: Uint32Array.from(answers, (a) => a.cookie),
        codes: Uint8Array.from(answers, (a) => a.code),
        by: Uint8Array.from(answers, (a) => a.by),
        rule: Int16Array.from(answers, (a) => a.rule),
        latencyNs: Float64Array.from(answers, (a) => a.latencyNs),
      },
      errors: [],
      overflow,
      totals: this.totals(),
    });
  }
}

/** Sysfs reading with node:fs, the same contract as the addon's readSysfs. */
function readSysfs(root: string, req: SysfsRequest): SysfsResult {
  return nodeReader(root).read(req);
}

/**
 * An addon whose working parts are a FakeSimQueue behind
 * createFaultQueue({kind:'sim'}) and sysfs reading with node:fs (so the
 * host view works too); everything else throws.
 */
export function fakeSimAddon(): NativeAddon & { queues: FakeSimQueue[] } {
  const queues: FakeSimQueue[] = [];
  const createFaultQueue = (opts: FaultQueueOptions): NativeFaultQueue => {
    if (opts.kind !== 'sim')
      throw Object.assign(new Error('the fake addon only simulates'), { code: 'ENOTSUP' });
    const q = new FakeSimQueue(opts);
    queues.push(q);
    return q;
  };
  const sysfs = {
    readSysfs,
    readSysfsAsync: async (root: string, req: SysfsRequest) => readSysfs(root, req),
  };
  return new Proxy(
    { createFaultQueue, queues, ...sysfs } as unknown as NativeAddon & { queues: FakeSimQueue[] },
    {
      get(target, key, receiver) {
        if (key in target) return Reflect.get(target, key, receiver) as unknown;
        if (typeof key === 'symbol' || key === 'then') return undefined;
        return () => {
          throw new Error(`the fake addon has no ${key}()`);
        };
      },
    },
  );
}
