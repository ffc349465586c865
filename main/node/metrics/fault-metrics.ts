// Prometheus metrics of the fault path, in a Registry of their own (one per
// core; never prom-client's global default registry).
//
// Exactness: the native queue's QueueTotals are the truth. Every counter
// moves by the delta between a queue's totals in consecutive batches, never
// by a recount. Where the totals have no breakdown (device, PASID, the
// answerer × code pair) the breakdown comes from the batch's exact read and
// answered lists, and whatever the lists do not explain (records left out by
// overflow, a queue first seen mid-session) is counted under "unknown", so the
// labelled series always sum to the totals. For answers made before the
// metrics first saw a queue only the answerer is known: they count under
// code="unknown" rather than under a made-up code.
//
// Cardinality: at most `maxSeries` (dev, pasid) pairs get their own series;
// later pairs are counted under dev="other", pasid="other", and the groups
// folded so are counted in iommuscope_series_folded_groups_total (so a
// dashboard can say the cap was hit). Memory stays bounded by the cap.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FAULT_RECORD_BYTES, FaultFlag } from '../../common/fault-record';
import { answeredByNames } from '../../common/contract';
import type { FaultBatch, QueueTotals } from '../native/addon-types';
import { RECORDS_LEFT_OUT } from '../recording/batch-frames';
import { zeroQueueTotals } from '../native/queue-totals';

export const DEFAULT_MAX_SERIES = 256;
/** 1 µs .. 10 s: policy answers take µs, user answers seconds. */
export const LATENCY_BUCKETS_S = [
  1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1, 1, 10,
];

const BY_KEYS = ['byUser', 'byPolicy', 'byDrain', 'byKernel'] as const;
const CODES = ['success', 'invalid'] as const;

export interface FaultMetricsOptions {
  maxSeries?: number;
  /** Registry to use; default a new one. */
  registry?: Registry;
}

export class FaultMetrics {
  readonly registry: Registry;
  private readonly maxSeries: number;
  private readonly last = new Map<number, QueueTotals>();
  private readonly series = new Set<string>();
  private readonly pageRequests: Counter<'dev' | 'pasid'>;
  private readonly groupsRead: Counter<'dev' | 'pasid'>;
  private readonly answered: Counter<'by' | 'code'>;
  private readonly pending: Gauge;
  private readonly overflow: Counter;
  private readonly errors: Counter;
  private readonly malformed: Counter;
  private readonly latency: Histogram<'by'>;
  private readonly latencyChildren = new Map<string, ReturnType<Histogram<'by'>['labels']>>();
  private readonly folded: Counter;
  private readonly queues: Gauge;

  constructor(opts: FaultMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
    const registers = [this.registry];
    this.pageRequests = new Counter({
      name: 'iommuscope_page_requests_total',
      help: 'Page requests read from fault queues, per device and PASID (pasid="none" without PASID)',
      labelNames: ['dev', 'pasid'],
      registers,
    });
    this.groupsRead = new Counter({
      name: 'iommuscope_groups_read_total',
      help: 'Page request groups read from fault queues, per device and PASID',
      labelNames: ['dev', 'pasid'],
      registers,
    });
    this.answered = new Counter({
      name: 'iommuscope_groups_answered_total',
      help: 'Groups answered, by answerer (user, policy, drain, kernel) and response code',
      labelNames: ['by', 'code'],
      registers,
    });
    this.pending = new Gauge({
      name: 'iommuscope_groups_pending',
      help: 'Groups read and not yet answered, over all open fault queues',
      registers,
    });
    this.overflow = new Counter({
      name: 'iommuscope_overflow_total',
      help: 'Records of automatically answered groups left out of batches (their groups were still answered)',
      registers,
    });
    this.errors = new Counter({
      name: 'iommuscope_errors_total',
      help: 'Failed answer writes, maps and reads on fault queues',
      registers,
    });
    this.malformed = new Counter({
      name: 'iommuscope_malformed_records_total',
      help: 'Fault records with unknown flag/perm bits, a reserved word or cookie 0 (still answered)',
      registers,
    });
    this.latency = new Histogram({
      name: 'iommuscope_answer_latency_seconds',
      help: 'From the read that returned a group to its answer, by answerer (by="policy" is the automatic-answer latency)',
      labelNames: ['by'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.folded = new Counter({
      name: 'iommuscope_series_folded_groups_total',
      help: 'Groups counted under dev="other",pasid="other" because the device/PASID series cap was reached',
      registers,
    });
    this.queues = new Gauge({
      name: 'iommuscope_fault_queues',
      help: 'Fault queues being counted',
      registers,
    });
  }

  /** Count one batch of a queue (subscribe this to the batch stream). */
  observe(b: FaultBatch): void {
    const prev = this.last.get(b.queue) ?? zeroQueueTotals();
    const t = b.totals;
    this.last.set(b.queue, { ...t });
    this.queues.set(this.last.size);

    // Reads: breakdown from the read list; the rest of the totals' delta is 'unknown'.
    const view = new DataView(b.records);
    let listedPages = 0;
    let listedGroups = 0;
    const r = b.read;
    for (let i = 0; i < r.group.length; i++) {
      const first = r.first[i]!;
      const pages = r.pages[i]!;
      let labels = { dev: 'unknown', pasid: 'unknown' };
      const off = first * FAULT_RECORD_BYTES;
      if (first !== RECORDS_LEFT_OUT && off + FAULT_RECORD_BYTES <= b.records.byteLength) {
        const flags = view.getUint32(off, true);
        labels = this.cap(
          String(view.getUint32(off + 4, true)),
          flags & FaultFlag.PasidValid ? String(view.getUint32(off + 8, true)) : 'none',
        );
      }
      this.pageRequests.inc(labels, pages);
      this.groupsRead.inc(labels, 1);
      listedPages += pages;
      listedGroups++;
    }
    const unknown = { dev: 'unknown', pasid: 'unknown' };
    incPositive(this.pageRequests, unknown, t.faults - prev.faults - listedPages);
    incPositive(this.groupsRead, unknown, t.groups - prev.groups - listedGroups);

    // Answers: by × code from the answered list; the rest of each answerer's delta is code="unknown".
    const a = b.answered;
    const listed = new Map<string, number>();
    for (let i = 0; i < a.group.length; i++) {
      const by = answeredByNames[a.by[i]!] ?? 'unknown';
      const code = CODES[a.codes[i]!] ?? 'unknown';
      const key = `${by}\u0000${code}`;
      listed.set(key, (listed.get(key) ?? 0) + 1);
      this.latencyChild(by).observe(a.latencyNs[i]! / 1e9);
    }
    const listedBy = new Map<string, number>();
    for (const [key, n] of listed) {
      const [by, code] = key.split('\u0000') as [string, string];
      this.answered.inc({ by, code }, n);
      listedBy.set(by, (listedBy.get(by) ?? 0) + n);
    }
    BY_KEYS.forEach((k, i) => {
      const by = answeredByNames[i]!;
      incPositive(this.answered, { by, code: 'unknown' }, t[k] - prev[k] - (listedBy.get(by) ?? 0));
    });

    incPositive(this.overflow, {}, t.overflow - prev.overflow);
    incPositive(this.errors, {}, t.errors - prev.errors);
    incPositive(this.malformed, {}, t.malformed - prev.malformed);
    this.pending.set(this.sumPending());
  }

  /** One histogram child per answerer: no label hashing per answer. */
  private latencyChild(by: string): ReturnType<Histogram<'by'>['labels']> {
    let c = this.latencyChildren.get(by);
    if (!c) this.latencyChildren.set(by, (c = this.latency.labels({ by })));
    return c;
  }

  /** A queue closed: its pending groups no longer count (its counters stay). */
  queueClosed(queue: number): void {
    const t = this.last.get(queue);
    if (t) this.last.set(queue, { ...t, pending: 0 });
    this.pending.set(this.sumPending());
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private sumPending(): number {
    let n = 0;
    for (const t of this.last.values()) n += t.pending;
    return n;
  }

  private cap(dev: string, pasid: string): { dev: string; pasid: string } {
    const key = `${dev}/${pasid}`;
    if (this.series.has(key)) return { dev, pasid };
    if (this.series.size < this.maxSeries) {
      this.series.add(key);
      return { dev, pasid };
    }
    this.folded.inc();
    return { dev: 'other', pasid: 'other' };
  }
}

function incPositive<T extends string>(
  c: Counter<T>,
  labels: Partial<Record<T, string>>,
  n: number,
): void {
  if (n > 0) c.inc(labels, n);
}
