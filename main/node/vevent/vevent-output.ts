// `watch --source vevent` output: one NDJSON line or one text line per vEVENT
// and per loss, built as one string per batch.
//   {"type":"vevent","queue":3,"sequence":17,"virtId":"1","data":"01000000","decoded":{...}}
//   {"type":"vevent-lost","queue":3,"after":10,"lost":4,"marker":true}
//   12:00:01.123456 vevent q 3 seq 17 virt 1 selftest virt id 0x1 [01000000]
//   12:00:01.123460 vevent q 3 LOST 4 after seq 10 (LOST_EVENTS)
import type { VeventTotals } from '../native/addon-types';
import type { VeventItem } from './vevent-rows';

export function veventNdjson(queue: number, items: VeventItem[]): string {
  let s = '';
  for (const r of items) {
    if (r.kind === 'lost') {
      s += `{"type":"vevent-lost","queue":${queue},"after":${r.after === null ? 'null' : r.after},"lost":${r.lost},"marker":${r.marker}}\n`;
      continue;
    }
    const decoded = JSON.stringify({
      kind: r.decoded.kind,
      summary: r.decoded.summary,
      ...r.decoded.fields,
    });
    s +=
      `{"type":"vevent","queue":${queue},"sequence":${r.sequence},` +
      `"virtId":${r.virtId === null ? 'null' : `"${r.virtId}"`},"data":"${r.hex}","decoded":${decoded}}\n`;
  }
  return s;
}

export function veventText(
  queue: number,
  items: VeventItem[],
  time: (ns: number) => string,
): string {
  let s = '';
  for (const r of items) {
    if (r.kind === 'lost') {
      s += `${time(r.readNs)} vevent q ${queue} LOST ${r.lost} after ${r.after === null ? 'start' : `seq ${r.after}`}${r.marker ? ' (LOST_EVENTS)' : ' (sequence gap)'}\n`;
      continue;
    }
    s += `${time(r.readNs)} vevent q ${queue} seq ${r.sequence} virt ${r.virtId ?? '-'} ${r.decoded.summary} [${r.hex}]\n`;
  }
  return s;
}

export interface VeventSummary {
  type: 'summary';
  source: 'vevent';
  device: string;
  veventqType: string;
  depth: number;
  virtId: string;
  events: number;
  lost: number;
  lostMarkers: number;
  overflow: number;
  malformed: number;
  reads: number;
  errors: number;
  injected?: number;
  injectFailed?: number;
  injectError?: string;
  eventsPerSec: number;
  outputLost?: number;
  recordError?: string;
  stopReason: string;
  durationMs: number;
  teardownErrors: string[];
  error?: string;
  /** No kernel call failed and nothing was left out (lost vEVENTs are the kernel's, reported, not unclean). */
  clean: boolean;
}

export function veventStatus(t: VeventTotals, elapsedMs: number): string {
  const rate = Math.round((t.events * 1000) / Math.max(elapsedMs, 1));
  return (
    `${(elapsedMs / 1000).toFixed(1)}s  vevents ${t.events} (${rate}/s)  lost ${t.lost}` +
    ` (markers ${t.lostMarkers})  errors ${t.errors}${t.overflow ? `  overflow ${t.overflow}` : ''}`
  );
}
