// `export --format perfetto`: Chrome trace-event JSON (the "JSON trace
// format" ui.perfetto.dev and chrome://tracing load). Each device is a
// process (pid = 1000 + dev id) and each of its PASIDs a thread; a group is a
// complete ("X") slice from its read to its answer, on its PASID's track.
// Slices on one track must not overlap, so groups pending at the same time
// go on lanes: "PASID 3", "PASID 3 (2)" ... Counters: page requests/s per
// device (100 ms buckets) and, on the queue's process (pid = queue id),
// pending groups and answers/s from the totals checkpoints.
// Timestamps are CLOCK_MONOTONIC µs, the clock `perf record -k CLOCK_MONOTONIC`
// and ftrace's "mono" trace_clock use, so the tracks line up with theirs.
import { permString } from '../../common/fault-record';
import type { DecodedFrame } from './frames';
import { GroupJoin, type GroupRow } from './group-join';
import { byName, codeName } from './batch-ndjson';

const RATE_BUCKET_NS = 100_000_000;
const DEVICE_PID_BASE = 1000;
const NO_PASID = -1;

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

const us = (ns: number): number => Math.round(ns) / 1000;

/** Collects a recording's frames, then writes the whole trace (groups sorted by read time). */
export class PerfettoExporter {
  private readonly rows: GroupRow[] = [];
  private readonly join = new GroupJoin((r) => this.rows.push(r));
  private readonly counters: TraceEvent[] = [];
  private readonly queues = new Set<number>();
  private lastNs = 0;
  private lastAnswered = new Map<number, { ns: number; answered: number }>();

  add(f: DecodedFrame): void {
    this.join.add(f);
    if (f.kind !== 'header') this.lastNs = Math.max(this.lastNs, f.monoNs);
    if (f.kind === 'batch') {
      this.queues.add(f.queue);
      this.counters.push({
        ph: 'C',
        name: 'pending groups',
        pid: f.queue,
        ts: us(f.monoNs),
        args: { pending: f.totals.pending },
      });
      const prev = this.lastAnswered.get(f.queue);
      if (prev && f.monoNs > prev.ns) {
        const rate = ((f.totals.answered - prev.answered) * 1e9) / (f.monoNs - prev.ns);
        this.counters.push({
          ph: 'C',
          name: 'answers/s',
          pid: f.queue,
          ts: us(f.monoNs),
          args: { answers: Math.round(rate) },
        });
      }
      this.lastAnswered.set(f.queue, { ns: f.monoNs, answered: f.totals.answered });
    }
  }

  /** The trace as JSON text, written in pieces (one event per line). */
  end(write: (text: string) => void): void {
    this.join.finish();
    const rows = this.rows.sort((a, b) => a.readNs - b.readNs || a.group - b.group);
    const events: TraceEvent[] = [];
    const lanes = new Map<string, number[]>(); // track → end time of each lane's last slice
    const tids = new Map<string, number>();
    const named = new Set<number>();
    const rate = new Map<number, Map<number, number>>(); // dev → bucket → pages
    let nextTid = 1;
    for (const r of rows) {
      const dev = r.devId ?? 0;
      const pasid = r.pasid ?? NO_PASID;
      const pid = DEVICE_PID_BASE + dev;
      if (!named.has(pid)) {
        named.add(pid);
        events.push({
          ph: 'M',
          name: 'process_name',
          pid,
          args: { name: r.devId === null ? 'device unknown (records left out)' : `device ${dev}` },
        });
      }
      const end = r.answer ? r.readNs + r.answer.latencyNs : this.lastNs;
      const trackKey = `${dev}:${pasid}`;
      const laneEnds = lanes.get(trackKey) ?? [];
      lanes.set(trackKey, laneEnds);
      let lane = laneEnds.findIndex((e) => e <= r.readNs);
      if (lane < 0) lane = laneEnds.push(end) - 1;
      else laneEnds[lane] = end;
      const tidKey = `${trackKey}:${lane}`;
      let tid = tids.get(tidKey);
      if (tid === undefined) {
        tid = nextTid++;
        tids.set(tidKey, tid);
        const label = pasid === NO_PASID ? 'no PASID' : `PASID ${pasid}`;
        events.push({
          ph: 'M',
          name: 'thread_name',
          pid,
          tid,
          args: { name: lane ? `${label} (${lane + 1})` : label },
        });
        events.push({ ph: 'M', name: 'thread_sort_index', pid, tid, args: { sort_index: tid } });
      }
      events.push({
        ph: 'X',
        cat: 'page-request',
        name: r.answer ? `group ${r.group} ${codeName(r.answer.code)}` : `group ${r.group} pending`,
        pid,
        tid,
        ts: us(r.readNs),
        dur: Math.max(us(end) - us(r.readNs), 0),
        args: {
          group: r.group,
          queue: r.queue,
          cookie: r.cookie,
          addr: r.addr,
          perm: r.perm === null ? null : permString(r.perm),
          pages: r.pages,
          grpid: r.grpid,
          ...(r.answer
            ? {
                code: codeName(r.answer.code),
                by: byName(r.answer.by),
                rule: r.answer.rule,
                latencyUs: r.answer.latencyNs / 1000,
              }
            : { state: 'pending at the end of the recording' }),
        },
      });
      const buckets = rate.get(dev) ?? new Map<number, number>();
      rate.set(dev, buckets);
      const b = Math.floor(r.readNs / RATE_BUCKET_NS);
      buckets.set(b, (buckets.get(b) ?? 0) + r.pages);
    }
    for (const [dev, buckets] of rate) {
      const keys = [...buckets.keys()].sort((a, b) => a - b);
      // A zero after each busy stretch, so the counter drops instead of holding its last value.
      for (const k of keys) {
        for (const [bucket, pages] of [
          [k, buckets.get(k)!],
          [k + 1, buckets.get(k + 1) ?? 0],
        ] as const) {
          if (bucket !== k && buckets.has(bucket)) continue;
          events.push({
            ph: 'C',
            name: 'page requests/s',
            pid: DEVICE_PID_BASE + dev,
            ts: us(bucket * RATE_BUCKET_NS),
            args: { rate: (pages * 1e9) / RATE_BUCKET_NS },
          });
        }
      }
    }
    for (const q of this.queues) {
      events.push({ ph: 'M', name: 'process_name', pid: q, args: { name: `fault queue ${q}` } });
    }
    write('{"displayTimeUnit":"ns","traceEvents":[\n');
    const all = [...events, ...this.counters];
    all.forEach((e, i) => write(`${JSON.stringify(e)}${i + 1 < all.length ? ',' : ''}\n`));
    write(']}\n');
  }
}
