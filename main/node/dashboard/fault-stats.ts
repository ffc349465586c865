// faults.stats: one pass over the fault log's rows, accumulating per device,
// per PASID and per (device, PASID, grpid). Latency percentiles are exact
// (nearest rank over the sorted latencies of each key); the scan holds one
// double per answered row at most, freed when the request returns.
import type { FaultStats, StatsRow, StatsTable } from '../../common/fault-stats';
import { NO_PASID, NOT_ANSWERED, RowState, type RowColumns } from './log-rows';

interface Acc {
  row: StatsRow;
  latencies: number[];
}

/** Nearest-rank percentile of ascending `v`. */
export function percentile(v: readonly number[], p: number): number {
  return v[Math.max(0, Math.ceil((p / 100) * v.length) - 1)]!;
}

function newAcc(dev: number | null, pasid: number | null, grpid: number | null, seq: number): Acc {
  return {
    row: {
      dev,
      pasid,
      grpid,
      groups: 0,
      pages: 0,
      pending: 0,
      success: 0,
      invalid: 0,
      byUser: 0,
      byPolicy: 0,
      byDrain: 0,
      byKernel: 0,
      p50Us: null,
      p99Us: null,
      maxUs: null,
      firstGroup: String(seq),
      lastGroup: String(seq),
    },
    latencies: [],
  };
}

const BY_FIELDS = ['byUser', 'byPolicy', 'byDrain', 'byKernel'] as const;

function add(acc: Acc, c: RowColumns, p: number): void {
  const r = acc.row;
  r.groups++;
  r.pages += c.pages[p]!;
  r.lastGroup = String(c.seq[p]!);
  const state = c.state[p]!;
  if (state === RowState.Pending) r.pending++;
  else if (state === RowState.Success) r.success++;
  else if (state === RowState.Invalid) r.invalid++;
  const by = c.by[p]!;
  if (by !== NOT_ANSWERED && by < BY_FIELDS.length) r[BY_FIELDS[by]!]++;
  const lat = c.latencyUs[p]!;
  if (state !== RowState.Pending && Number.isFinite(lat)) acc.latencies.push(lat);
}

function finish(accs: Iterable<Acc>, limit: number): StatsTable {
  const all = [...accs];
  // Most groups first, then by key order (stable for equal counts).
  all.sort((a, b) => b.row.groups - a.row.groups);
  const kept = all.slice(0, limit);
  for (const a of kept) {
    if (a.latencies.length === 0) continue;
    const v = a.latencies.sort((x, y) => x - y);
    a.row.p50Us = percentile(v, 50);
    a.row.p99Us = percentile(v, 99);
    a.row.maxUs = v[v.length - 1]!;
  }
  return { rows: kept.map((a) => a.row), leftOut: all.length - kept.length };
}

/**
 * Statistics of the rows at positions [from, to) of `c` for which `test`
 * holds (and that are not gone).
 */
export function computeStats(
  c: RowColumns,
  from: number,
  to: number,
  test: (pos: number) => boolean,
  limits: { rows: number; conversations: number },
): FaultStats {
  const devs = new Map<number, Acc>();
  const pasids = new Map<number, Acc>();
  const convs = new Map<string, Acc>();
  let groups = 0;
  for (let p = from; p < to; p++) {
    if (c.state[p] === RowState.Gone || !test(p)) continue;
    groups++;
    const dev = c.devId[p]!;
    const raw = c.pasid[p]!;
    const pasid = raw === NO_PASID ? null : raw;
    const grpid = c.grpid[p]!;
    const seq = c.seq[p]!;
    let d = devs.get(dev);
    if (!d) devs.set(dev, (d = newAcc(dev, null, null, seq)));
    add(d, c, p);
    let s = pasids.get(raw);
    if (!s) pasids.set(raw, (s = newAcc(null, pasid, null, seq)));
    add(s, c, p);
    const key = `${dev}:${raw}:${grpid}`;
    let k = convs.get(key);
    if (!k) convs.set(key, (k = newAcc(dev, pasid, grpid, seq)));
    add(k, c, p);
  }
  return {
    groups,
    byDevice: finish(devs.values(), limits.rows),
    byPasid: finish(pasids.values(), limits.rows),
    conversations: finish(convs.values(), limits.conversations),
  };
}
