// The CoreService as `serve` and the Electron main process both start it:
// from the same parsed options, with the same optional session at start.
import type { DashboardOptions } from '../cli/dashboard-args';
import { ActivityFeed } from './activity-feed';
import { CoreService } from './core-service';
import { packageVersion } from './version';
import type { AppInfo } from '../../common/contract';
import { outstandingOption } from '../session/native-specs';

export function coreFromOptions(
  opts: DashboardOptions,
  mode: AppInfo['mode'],
  log: (line: string) => void,
): CoreService {
  // Activity view hook-up: the feed starts with the core; a failure is logged, the app runs on.
  const activity = opts.activity ? new ActivityFeed(opts.activity, opts.sysfsRoot) : undefined;
  activity
    ?.start()
    .catch((err: unknown) => log(`activity: ${err instanceof Error ? err.message : String(err)}`));
  return new CoreService({
    ...(activity ? { activity } : {}),
    version: packageVersion(),
    mode,
    drainCode: opts.drainCode,
    policy: opts.policy,
    ...(opts.sysfsRoot ? { sysfsRoot: opts.sysfsRoot } : {}),
    sessionDefaults: { flushIntervalMs: opts.flushMs },
    log,
  });
}

/**
 * Open the session asked for on the command line, if any. A failure is logged
 * and kept in the session state (the dashboard shows it); the app keeps running.
 */
export function openSessionFromOptions(
  core: CoreService,
  opts: DashboardOptions,
  log: (line: string) => void,
): void {
  const s = opts.session;
  if (!s) return;
  try {
    core.openSession({
      source: s.source,
      ...(s.device ? { device: s.device } : {}),
      ...(s.pasid !== undefined ? { pasid: s.pasid } : {}),
      policy: s.policy,
      ...outstandingOption(s.inject?.outstanding),
      ...(opts.verbose ? { log } : {}),
    });
    if (s.inject) core.startInject(s.inject);
  } catch (err) {
    log(`the session could not start: ${err instanceof Error ? err.message : String(err)}`);
  }
}
