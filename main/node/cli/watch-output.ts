// Output of `iommuscope watch`: NDJSON events (built as one string per batch,
// no JSON.stringify per event on the hot path), the periodic stats and
// human status lines, and the final summary line.
import { FaultFlag, flagNames, formatAddr, permString } from '../../common/fault-record';
import type { DecodedBatch, SessionSummary } from '../session/fault-session';
import { answeredByCounts } from '../session/fault-session';
import { RECORDS_LEFT_OUT } from '../session/decode-batch';
import { answeredByNames, type Totals } from '../../common/contract';
import type { QueueTotals } from '../native/addon-types';
import { toTotals } from '../dashboard/totals';
import type { BatchSelection } from './watch-filter';

export const codeName = (c: number): string =>
  c === 0 ? 'success' : c === 1 ? 'invalid' : `code${c}`;

/** Small caches of the strings a value always formats to (flags and perm take few values). */
function memo(fn: (v: number) => string): (v: number) => string {
  const cache = new Map<number, string>();
  return (v) => {
    let s = cache.get(v);
    if (s === undefined) {
      s = fn(v);
      if (cache.size < 4096) cache.set(v, s);
    }
    return s;
  };
}

const flagsJsonSlow = memo((f) => JSON.stringify(flagNames(f)));
const permJsonSlow = memo((p) => JSON.stringify(permString(p)));
// The common values straight from an array (the hot path sees only these).
const flagsTable = [0, 1, 2, 3].map(flagsJsonSlow);
const permTable = Array.from({ length: 16 }, (_, p) => permJsonSlow(p));
const flagsJson = (f: number): string => flagsTable[f] ?? flagsJsonSlow(f);
const permJson = (p: number): string => permTable[p] ?? permJsonSlow(p);
const byJson = memo((b) => JSON.stringify(answeredByNames[b] ?? `by${b}`));
const codeJson = memo((c) => JSON.stringify(codeName(c)));

/** A double as JSON (NaN and infinities are not JSON). */
const num = (x: number): string => (Number.isFinite(x) ? String(x) : 'null');

const none = new Uint32Array(0);
const emptyColumns = {
  flags: none,
  devId: none,
  pasid: none,
  grpid: none,
  perm: none,
  addrHi: none,
  addrLo: none,
  length: none,
};

/**
 * NDJSON lines for one batch: every page of every group read, every answer,
 * every error; with `keep` (watch --filter) only the groups and answers it marks.
 */
export function batchToNdjson(
  b: DecodedBatch,
  keep?: BatchSelection,
): { text: string; lines: number } {
  let s = '';
  let lines = 0;
  const r = b.read;
  const hasRecords = b.count > 0;
  // Columns are only decoded when some record is there; read once (they are getters).
  const cookie = hasRecords ? b.cookie : undefined;
  const c = hasRecords ? b : undefined;
  const { flags: flagsCol, devId, pasid, grpid, perm, addrHi, addrLo, length } = c ?? emptyColumns;
  for (let i = 0; i < r.count; i++) {
    if (keep && !keep.read[i]) continue;
    const group = r.group[i]!;
    const readNs = num(r.readNs[i]!);
    const first = r.first[i]!;
    const pages = r.pages[i]!;
    if (first === RECORDS_LEFT_OUT || !cookie) {
      s += `{"type":"fault","group":"${group}","cookie":${r.cookie[i]},"pages":${pages},"readNs":${readNs},"recordsLeftOut":true}\n`;
      lines++;
      continue;
    }
    const end = Math.min(first + pages, b.count);
    for (let k = first; k < end; k++) {
      const flags = flagsCol[k]!;
      s +=
        `{"type":"fault","group":"${group}","cookie":${cookie[k]},"dev":${devId[k]},` +
        `"pasid":${flags & FaultFlag.PasidValid ? pasid[k] : 'null'},"grpid":${grpid[k]},` +
        `"perm":${permJson(perm[k]!)},"addr":"${formatAddr(addrHi[k]!, addrLo[k]!)}",` +
        `"length":${length[k]},"flags":${flagsJson(flags)},"readNs":${readNs}}\n`;
      lines++;
    }
  }
  const a = b.answered;
  for (let i = 0; i < a.count; i++) {
    if (keep && !keep.answered[i]) continue;
    s +=
      `{"type":"response","group":"${a.group[i]}","cookie":${a.cookie[i]},"code":${codeJson(a.code[i]!)},` +
      `"by":${byJson(a.by[i]!)},"rule":${a.rule[i]},"latencyNs":${num(a.latencyNs[i]!)}}\n`;
    lines++;
  }
  for (const e of b.errors) {
    s += `${JSON.stringify({ type: 'error', ...e, group: e.group === null ? null : String(e.group) })}\n`;
    lines++;
  }
  if (b.overflow) {
    s += `{"type":"overflow","records":${b.overflow},"groups":${b.groupsLeftOut}}\n`;
    lines++;
  }
  return { text: s, lines };
}

export const ndjsonLostLine = (n: number): string => `{"type":"lost","lines":${n}}\n`;

export interface Rates {
  elapsedMs: number;
  faultsPerSec: number;
}

export function statsLine(t: QueueTotals, r: Rates): string {
  return `${JSON.stringify({ type: 'stats', elapsedMs: Math.round(r.elapsedMs), faultsPerSec: Math.round(r.faultsPerSec), ...t })}\n`;
}

/** One human line: used as the refreshing TTY status and as periodic lines (-q). */
export function humanStatus(t: QueueTotals, r: Rates): string {
  return (
    `${(r.elapsedMs / 1000).toFixed(1)}s  faults ${t.faults} (${Math.round(r.faultsPerSec)}/s)  ` +
    `groups ${t.groups}  answered ${t.answered} (ok ${t.success}, invalid ${t.invalid}; ` +
    `user ${t.byUser}, policy ${t.byPolicy}, drain ${t.byDrain}, kernel ${t.byKernel})  ` +
    `pending ${t.pending}  errors ${t.errors}${t.overflow ? `  overflow ${t.overflow}` : ''}`
  );
}

/** The last line of `watch`: the queue's counters plus how the run ended. */
export interface WatchSummary extends Totals {
  type: 'summary';
  source: string;
  /** Exact native counters per answerer; they add up to `answered`. */
  answeredBy: SessionSummary['by'];
  injected?: number;
  injectFailed?: number;
  injectError?: string;
  /** Output lines dropped because stdout's reader fell behind. */
  outputLost?: number;
  /** --record: why the recording stopped before the session ended (disk full ...). */
  recordError?: string;
  stopReason: string;
  durationMs: number;
  teardownErrors: string[];
  error?: string;
  clean: boolean;
}

export function buildSummary(
  source: string,
  s: SessionSummary | undefined,
  stopReason: string,
  durationMs: number,
  error?: string,
): WatchSummary {
  const totals = toTotals(s);
  const teardownErrors = s?.teardownErrors ?? [];
  const errors = totals.errors + (error ? 1 : 0) + (s?.inject?.failed ?? 0) + teardownErrors.length;
  const out: WatchSummary = {
    type: 'summary',
    source,
    ...totals,
    errors,
    answeredBy: s ? answeredByCounts(s) : { user: 0, policy: 0, drain: 0, kernel: 0 },
    stopReason,
    durationMs: Math.round(durationMs),
    teardownErrors,
    clean: errors === 0 && totals.pending === 0,
  };
  if (s?.inject) {
    out.injected = s.inject.injected;
    out.injectFailed = s.inject.failed;
    if (s.inject.lastError) out.injectError = s.inject.lastError;
  }
  if (error) out.error = error;
  return out;
}
