// What a CoreService is built from: its options, and the host feed it
// watches (the topology watcher, or a test double).
import type { AppInfo } from '../../common/contract';
import type { HostTopology, TopologyUpdate } from '../../common/host-topology';
import type { PolicySpec } from '../../common/policy';
import type { FaultSessionOptions } from '../session/fault-session';
import type { ActivityFeed } from './activity-feed';
import type { Clock } from './frame-builder';

/**
 * Per-flush cap on the records of automatically answered groups the native
 * reader hands to JS (every 10 ms by default). Beyond ~800k page requests/s
 * the log shows those groups as counted, not rows (Frame.logSkipped; their
 * answers stay exact in the totals), and the event loop stays free for the
 * renderer. Records of pending groups are always delivered: every pending
 * group has a row.
 */
export const DASHBOARD_JS_BUFFER_RECORDS = 8192;

/** Where host.snapshot and host.changed come from (the topology watcher, or a test double). */
export interface HostFeed {
  start(): Promise<HostTopology>;
  readonly topology: HostTopology | undefined;
  onUpdate(fn: (u: TopologyUpdate) => void): () => void;
  onError(fn: (err: Error) => void): () => void;
  stop(): void;
}

export interface CoreServiceOptions {
  version: string;
  mode: AppInfo['mode'];
  /** Answer for groups pending at close/quit; default 1 (INVALID). */
  drainCode?: 0 | 1;
  /** Policy of the next session.open without one; default hold. */
  policy?: PolicySpec;
  sysfsRoot?: string;
  /** Host topology rescan interval (ms); default 1000. */
  hostIntervalMs?: number;
  host?: HostFeed;
  /** Session options every open gets (tuning, iommuPath, test addon). */
  sessionDefaults?: Partial<FaultSessionOptions>;
  logMaxGroups?: number;
  logMaxRawRecords?: number;
  clock?: Clock;
  /** Diagnostics (stderr in the CLI). */
  log?: (line: string) => void;
  appInfo?: () => AppInfo;
  /** Activity view feed (host-wide IOMMU activity); absent: the view says it is off. */
  activity?: ActivityFeed;
  /** Folder of the Record button's files and of replays opened by name; default defaultRecordingDir(). */
  recordingDir?: string;
  /** Largest recording a client may upload (drop on the window); default DEFAULT_MAX_UPLOAD_BYTES. */
  maxUploadBytes?: number;
}
