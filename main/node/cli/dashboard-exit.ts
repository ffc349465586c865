// How a dashboard run (`serve`, `start`'s fallback, the Electron app) ends
// once it was asked to stop: drain with the chosen code, close, build the one
// summary line and its exit status. Shared so the app and the CLI agree.
import type { SessionSummary } from '../session/fault-session';
import { statusFor } from './exit-paths';

/** The part of CoreService a shutdown needs (a fake in tests). */
export interface ClosableCore {
  pendingCount(): number;
  readonly drainCode: 0 | 1;
  close(code?: 0 | 1): Promise<void>;
  readonly lastSessionSummary: SessionSummary | undefined;
}

export interface DashboardSummary extends Partial<SessionSummary> {
  type: 'summary';
  /** What stopped the run: a signal name, 'EPIPE', 'quit'. */
  stopReason: string;
  /** The same, under the name serve has always printed. */
  signal: string;
  /** false when no session was ever opened. */
  session?: false;
  clean: boolean;
}

/** The last line: the last session's counters; clean when nothing was left pending or failed. */
export function dashboardSummary(reason: string, s: SessionSummary | undefined): DashboardSummary {
  const head = { type: 'summary', signal: reason, stopReason: reason } as const;
  if (!s) return { ...head, session: false, pending: 0, clean: true };
  const errors = s.errors + (s.inject?.failed ?? 0) + s.teardownErrors.length;
  return { ...head, ...s, clean: s.pending === 0 && errors === 0 };
}

/**
 * Drain (`code`, default the core's drain-code setting) and close the core,
 * then whatever else must close (the HTTP server); returns the summary line
 * and the exit status.
 */
export async function closeDashboard(
  core: ClosableCore,
  reason: string,
  opts: {
    code?: 0 | 1;
    log?: (line: string) => void;
    alsoClose?: () => Promise<void>;
  } = {},
): Promise<{ summary: DashboardSummary; status: number }> {
  const code = opts.code ?? core.drainCode;
  opts.log?.(
    `${reason}: draining ${core.pendingCount()} pending group(s) as ${code === 0 ? 'success' : 'invalid'}, closing`,
  );
  await core.close(code);
  await opts.alsoClose?.();
  const summary = dashboardSummary(reason, core.lastSessionSummary);
  return { summary, status: statusFor(summary) };
}
