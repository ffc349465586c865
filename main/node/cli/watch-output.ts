// Output of `iommuscope watch`: NDJSON events (one write per batch) or a
// human live summary, and the final summary line.
import { flagNames, formatAddr, permString, FaultFlag } from '../../common/fault-record';
import type { DecodedBatch, SessionSummary } from '../session/fault-session';
import { answeredByNames, type Totals } from '../../common/contract';
import type { QueueTotals } from '../native/addon-types';
import { toTotals } from '../dashboard/totals';

const codeName = (c: number): string => (c === 0 ? 'success' : c === 1 ? 'invalid' : `code${c}`);

/** NDJSON lines for one batch: every fault, every response, every error. */
export function batchToNdjson(b: DecodedBatch): string {
  const lines: string[] = [];
  for (let i = 0; i < b.count; i++) {
    const flags = b.flags[i]!;
    lines.push(
      JSON.stringify({
        type: 'fault',
        cookie: b.cookie[i],
        dev: b.devId[i],
        pasid: flags & FaultFlag.PasidValid ? b.pasid[i] : null,
        grpid: b.grpid[i],
        perm: permString(b.perm[i]!),
        addr: formatAddr(b.addrHi[i]!, b.addrLo[i]!),
        length: b.length[i],
        flags: flagNames(flags),
        readNs: b.readNs[i],
      }),
    );
  }
  const a = b.answered;
  for (let i = 0; i < a.count; i++) {
    lines.push(
      JSON.stringify({
        type: 'response',
        cookie: a.cookie[i],
        code: codeName(a.code[i]!),
        by: answeredByNames[a.by[i]!] ?? `by${a.by[i]}`,
        rule: a.rule[i],
        latencyNs: a.latencyNs[i],
      }),
    );
  }
  for (const e of b.errors) lines.push(JSON.stringify({ type: 'error', ...e }));
  if (b.overflow) lines.push(JSON.stringify({ type: 'overflow', records: b.overflow }));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export interface Rates {
  elapsedMs: number;
  faultsPerSec: number;
}

export function statsLine(t: QueueTotals, r: Rates): string {
  return `${JSON.stringify({ type: 'stats', elapsedMs: Math.round(r.elapsedMs), faultsPerSec: Math.round(r.faultsPerSec), ...t })}\n`;
}

/** One human line: used as the refreshing TTY status and as periodic lines. */
export function humanStatus(t: QueueTotals, r: Rates): string {
  return (
    `${(r.elapsedMs / 1000).toFixed(1)}s  faults ${t.faults} (${Math.round(r.faultsPerSec)}/s)  ` +
    `groups ${t.groups}  answered ${t.answered} (ok ${t.success}, invalid ${t.invalid})  ` +
    `pending ${t.pending}  errors ${t.errors}${t.overflow ? `  overflow ${t.overflow}` : ''}`
  );
}

/** The last line of `watch`: the queue's counters plus how the run ended. */
export interface WatchSummary extends Totals {
  type: 'summary';
  source: string;
  answeredBy: SessionSummary['by'];
  injected?: number;
  injectFailed?: number;
  injectError?: string;
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
    answeredBy: s?.by ?? { user: 0, policy: 0, drain: 0, kernel: 0 },
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
