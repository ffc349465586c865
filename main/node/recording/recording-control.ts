// The dashboard's Record button on the core side: one recording at a time,
// into a folder the core chose, of whatever session the batch stream feeds.
// The core calls sessionOpened()/policyChanged()/topology*() as those
// happen, so a recording started mid-session still begins with the set-up.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostTopology, TopologyUpdate } from '../../common/host-topology';
import { RequestError } from '../../common/request-error';
import { RECORDING_NAME, type RecordingStatus } from '../../common/recording-contract';
import type { BatchSubscribe } from './batch-tap';
import { Recorder } from './recorder';
import type { SessionFrame } from './frames';

export interface RecordingControlOptions {
  /** Folder for recordings (created on first use). */
  dir: string;
  toolVersion: string;
  subscribe: BatchSubscribe;
  log?: (line: string) => void;
}

export type SessionInfo = Omit<SessionFrame, 'kind' | 'monoNs'>;

/** ~/.local/share/iommuscope/recordings (XDG_DATA_HOME respected). */
export function defaultRecordingDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'iommuscope', 'recordings');
}

const idle: RecordingStatus = {
  path: null,
  recording: false,
  pageRequests: 0,
  groups: 0,
  answers: 0,
  frames: 0,
  rawBytes: 0,
  fileBytes: 0,
  bytesPerPageRequest: null,
  error: null,
};

export class RecordingControl {
  private recorder: Recorder | null = null;
  private session: SessionInfo | null = null;
  private lastTopology: HostTopology | null = null;
  private last: RecordingStatus = idle;

  constructor(private readonly opts: RecordingControlOptions) {}

  start(name?: string): RecordingStatus {
    if (this.recorder?.recording)
      throw new RequestError(
        'ERECORDING',
        `already recording to ${this.recorder.status().path}: stop it first`,
      );
    if (name !== undefined && !RECORDING_NAME.test(name))
      throw new RequestError(
        'EPARAMS',
        `recording name '${name}' must be letters, digits, '.', '_' or '-' (no folders)`,
      );
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let file = name ?? `iommuscope-${os.hostname()}-${stamp}`;
    if (!file.endsWith('.pcapng.gz')) file += '.pcapng.gz';
    const full = path.join(this.opts.dir, file);
    try {
      mkdirSync(this.opts.dir, { recursive: true });
      this.recorder = Recorder.start({
        path: full,
        toolVersion: this.opts.toolVersion,
        subscribe: this.opts.subscribe,
        onError: (err) => this.opts.log?.(err.message),
      });
    } catch (err) {
      throw new RequestError('ERECORD', err instanceof Error ? err.message : String(err));
    }
    if (this.lastTopology) this.recorder.topology(this.lastTopology);
    if (this.session) this.recorder.session(this.session);
    this.opts.log?.(`recording to ${full}`);
    return this.status();
  }

  stop(): RecordingStatus {
    if (this.recorder) {
      this.last = this.recorder.stop('stopped from the dashboard');
      this.recorder = null;
    }
    return this.status();
  }

  status(): RecordingStatus {
    return this.recorder ? this.recorder.status() : this.last;
  }

  sessionOpened(info: SessionInfo): void {
    this.session = info;
    this.recorder?.session(info);
  }

  sessionClosed(): void {
    this.session = null;
  }

  policyChanged(queue: number, policy: unknown, by: string): void {
    if (this.session?.queue === queue) this.session = { ...this.session, policy };
    this.recorder?.policy(queue, policy, by);
  }

  /** vEVENTs of the dashboard's vEVENTQ source (one flush per reader batch). */
  vevents(frames: Parameters<Recorder['vevents']>[0]): void {
    this.recorder?.vevents(frames);
  }

  topology(t: HostTopology): void {
    this.lastTopology = t;
    this.recorder?.topology(t);
  }

  topologyUpdate(u: TopologyUpdate): void {
    this.lastTopology = u.topology;
    this.recorder?.topologyChange(u);
  }

  /** Stop on shutdown (after the final drain's batch was delivered). */
  close(): void {
    this.recorder?.stop('core closed');
    this.recorder = null;
  }
}
