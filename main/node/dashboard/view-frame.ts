// The content of one dashboard frame: totals, answerer counts, the newest
// rows and, every few frames, the rate charts and the latency histogram of
// the session's view.
import { ReplaySource } from '../sources/replay-source';
import type { FaultSession } from '../session/fault-session';
import type { FrameContent } from './frame-builder';
import { LatencyHistogram } from './latency-histogram';
import { replayState } from './replay-control';
import { RateWindow } from './rate-window';
import { MAX_RATE_SERIES, type SessionView } from './session-view';
import { toTotals } from './totals';

/** Rows in Frame.newest. */
export const NEWEST_ROWS = 20;

export function viewFrameContent(
  v: SessionView | undefined,
  session: FaultSession | undefined,
  withCharts: boolean,
): FrameContent {
  const t = v ? v.nowMs() : 0;
  const progress = session?.injectProgress();
  const q = v?.totals;
  const content: FrameContent = {
    t,
    totals: toTotals(q),
    faultRate: v && session ? v.faultRate(t) : 0,
    answeredByUser: q?.byUser ?? 0,
    answeredByPolicy: q?.byPolicy ?? 0,
    answeredByDrain: q?.byDrain ?? 0,
    answeredByKernel: q?.byKernel ?? 0,
    logSize: v?.log.size ?? 0,
    logDropped: v?.log.dropped ?? 0,
    logSkipped: v?.log.skipped ?? 0,
    newest: v?.log.newest(NEWEST_ROWS) ?? [],
    injection: progress
      ? {
          injected: progress.injected,
          failed: progress.failed,
          done: progress.done,
          lastError: progress.lastError ?? null,
        }
      : null,
    errors: v ? v.errors.snapshot() : [],
    replay: session && session.source instanceof ReplaySource ? replayState(session.source) : null,
  };
  if (withCharts) {
    const win = v?.byDevice ?? new RateWindow();
    content.rates = {
      bucketMs: win.bucketMs,
      byDevice: v ? v.byDevice.series(t, MAX_RATE_SERIES) : [],
      byPasid: v ? v.byPasid.series(t, MAX_RATE_SERIES) : [],
    };
    content.latency = (v?.latency ?? new LatencyHistogram()).snapshot();
  }
  return content;
}
