// The core side of the contract: one typed handler per request of
// contract.ts and the events, whichever transport carries them (Electron IPC
// or the browser-mode WebSocket). It owns the FaultSession, the fault log
// fed by the session's batches, the chart aggregates, the frame schedule and
// the host topology watcher. State lives here, so a renderer that reloads or
// reconnects loses nothing: stream.resync sends it all again.
import path from 'node:path';
import type { EventEnvelope, EventName, EventPayload, SessionState } from '../../common/contract';
import type { HostTopology, TopologyUpdate } from '../../common/host-topology';
import type { IommufdObjects } from '../../common/iommufd-objects';
import { parseInject, type InjectSpec } from '../../common/inject';
import type { PolicySpec } from '../../common/policy';
import { respondToGroups } from './respond';
import {
  FaultSession,
  type FaultSessionOptions,
  type SessionSummary,
} from '../session/fault-session';
import { TopologyWatcher } from '../topology/watcher';
import { probeAppInfo } from './app-info';
import {
  DASHBOARD_JS_BUFFER_RECORDS,
  type CoreServiceOptions,
  type HostFeed,
} from './core-options';
import { RequestError, type Handlers, type RequestContext } from './dispatch';
import { FrameBuilder, type FrameContent } from './frame-builder';
import { formatPolicyText, parsePolicyText } from './policy-text';
import { VeventFeed } from './vevent-feed';
import { veventHandlers } from './vevent-handlers';
import { veventFrames } from '../vevent/vevent-frames';
import { SessionView } from './session-view';
import { viewFrameContent } from './view-frame';
import { viewHandlers } from './view-handlers';
import type { BatchListener, BatchSubscribe } from '../recording/batch-tap';
import { RECORDING_NAME } from '../../common/recording-contract';
import { defaultRecordingDir, RecordingControl } from '../recording/recording-control';
import { ReplaySource } from '../sources/replay-source';
import { replayHandlers } from './replay-control';
import { ReplayUploads } from './replay-upload';
import { replayUploadHandlers } from './replay-upload-handlers';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../../common/replay-contract';
import { RecordingError } from '../recording/recording-error';
import { FaultMetrics } from '../metrics/fault-metrics';
import { TopologyMetrics } from '../metrics/topology-metrics';

export type { CoreServiceOptions, HostFeed } from './core-options';

type Listener = (envelope: EventEnvelope) => void;

/** A recording named by a client: a file inside the core's recordings folder, never a path. */
function recordingPath(dir: string, name: string): string {
  if (!RECORDING_NAME.test(name) || name.includes('..'))
    throw new RequestError(
      'EPARAMS',
      `recording '${name}' must be a file name in ${dir} (no folders)`,
    );
  return path.join(dir, name.endsWith('.pcapng.gz') ? name : `${name}.pcapng.gz`);
}

export class CoreService {
  readonly handlers: Handlers;
  readonly frames: FrameBuilder;
  private readonly listeners = new Set<Listener>();
  private session: FaultSession | undefined;
  private view: SessionView | undefined;
  private state: SessionState;
  private policy: PolicySpec;
  private readonly host: HostFeed;
  private hostStarted: Promise<HostTopology> | undefined;
  private lastHostUpdate: TopologyUpdate | undefined;
  private closing: Promise<void> | undefined;
  private opening = false;
  private lastSummary: SessionSummary | undefined;
  /** Batches of whichever session is open, for the recorder and metrics (survives reopen). */
  private readonly batchListeners = new Set<BatchListener>();
  private unsubscribeSession: (() => void) | undefined;
  readonly recordingDir: string;
  readonly recording: RecordingControl;
  /** Prometheus counters of every session and the host topology (serve's /metrics). */
  readonly metrics = new FaultMetrics();
  private readonly topologyMetrics = new TopologyMetrics(this.metrics.registry);
  /** Recordings dropped on a window, on their way into the recordings folder. */
  readonly uploads: ReplayUploads;
  /** The vEVENTQ source beside the fault session (Events view). */
  readonly vevents: VeventFeed;

  constructor(private readonly opts: CoreServiceOptions) {
    this.policy = opts.policy ?? { rules: [], fallback: { kind: 'hold' } };
    this.state = {
      source: null,
      file: null,
      device: null,
      pasid: null,
      policy: formatPolicyText(this.policy),
      drainCode: opts.drainCode ?? 1,
      canInject: false,
      startedAt: null,
      lastError: null,
    };
    this.host =
      opts.host ??
      new TopologyWatcher({
        ...(opts.sysfsRoot ? { sysfsRoot: opts.sysfsRoot } : {}),
        intervalMs: opts.hostIntervalMs ?? 1000,
      });
    const fanout: BatchSubscribe = (fn) => {
      this.batchListeners.add(fn);
      return () => this.batchListeners.delete(fn);
    };
    fanout((b) => this.metrics.observe(b));
    this.recordingDir = opts.recordingDir ?? defaultRecordingDir();
    this.recording = new RecordingControl({
      dir: this.recordingDir,
      toolVersion: opts.version,
      subscribe: fanout,
      ...(opts.log ? { log: opts.log } : {}),
    });
    this.host.onUpdate((u) => {
      this.lastHostUpdate = u;
      this.recording.topologyUpdate(u);
      this.topologyMetrics.update(u.topology);
      this.broadcast('host.changed', u);
    });
    this.host.onError((err) =>
      this.notice('warning', `host topology rescan failed: ${err.message}`),
    );
    this.frames = new FrameBuilder({
      source: { frame: (withCharts) => this.frameContent(withCharts) },
      send: (frame) => this.broadcast('frame', frame),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    this.uploads = new ReplayUploads({
      dir: this.recordingDir,
      maxBytes: opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      checkCanOpen: () => this.checkCanOpenReplay(),
      open: (file) => this.openReplayFile(file),
    });
    this.vevents = new VeventFeed({
      send: (frame) => this.broadcast('vevent.frame', frame),
      // The Topology view shows the fault session's objects while one is open.
      onObjects: (o) => {
        if (!this.session) this.broadcast('topology.changed', o);
      },
      ...(opts.sessionDefaults?.addon ? { addon: opts.sessionDefaults.addon } : {}),
      onBatch: (source, b) => {
        if (this.recording.status().recording) this.recording.vevents(veventFrames(source, b));
      },
    });
    this.handlers = this.makeHandlers();
    // Activity view hook-up: batches go to every subscriber as 'activity' events.
    opts.activity?.onBatch((b) => this.broadcast('activity', b));
  }

  // --- events ---------------------------------------------------------------

  /** Every event goes to every subscriber (each WebSocket client, the Electron window). */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private broadcast<N extends EventName>(event: N, payload: EventPayload<N>): void {
    const envelope: EventEnvelope = { event, payload };
    for (const fn of this.listeners) {
      try {
        fn(envelope);
      } catch (err) {
        this.opts.log?.(
          `event listener failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  private notice(level: 'info' | 'warning' | 'error', message: string): void {
    this.broadcast('notice', { level, message: message.slice(0, 4096) });
  }

  private setState(patch: Partial<SessionState>): void {
    this.state = { ...this.state, ...patch };
    this.broadcast('session.changed', this.sessionState());
  }

  sessionState(): SessionState {
    return { ...this.state };
  }

  // --- lifecycle --------------------------------------------------------------

  /** Start the host topology watcher (first scan); failures become a notice. */
  startHost(): Promise<HostTopology> {
    this.hostStarted ??= this.host.start().then((t) => {
      this.recording.topology(t);
      this.topologyMetrics.update(t);
      return t;
    });
    return this.hostStarted;
  }

  /** Groups read and not answered yet (what a quit must drain). */
  pendingCount(): number {
    if (!this.session || this.session.closed) return 0;
    return this.session.totals().pending;
  }

  get drainCode(): 0 | 1 {
    return this.state.drainCode;
  }

  get lastSessionSummary(): SessionSummary | undefined {
    return this.lastSummary;
  }

  /** Open a session (used by session.open and by `serve --source`). */
  openSession(opts: FaultSessionOptions & { policyText?: string }): SessionState {
    if (this.closing) throw new RequestError('ECLOSING', 'the core is shutting down');
    if (this.session || this.opening) {
      throw new RequestError(
        'EBUSY',
        'a session is already open: close it (session.close drains what is pending) before opening another',
      );
    }
    const policy = opts.policy ?? this.policy;
    this.opening = true;
    let session: FaultSession;
    try {
      session = FaultSession.open({
        jsBufferRecords: DASHBOARD_JS_BUFFER_RECORDS,
        ...this.opts.sessionDefaults,
        ...opts,
        policy,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setState({ lastError: message });
      throw err;
    } finally {
      this.opening = false;
    }
    this.policy = policy;
    this.session = session;
    const view = this.newView(session);
    this.view = view;
    session.on('batch', (b) => {
      this.view?.ingest(b); // this.view: a replay's reset starts a new one
      if (b.read.count > 0 || b.answered.count > 0 || b.errors.length > 0) {
        this.frames.changed();
      }
    });
    session.on('closed', (summary) => this.onSessionClosed(session, summary));
    this.unsubscribeSession = session.subscribeBatches((b) => {
      for (const fn of this.batchListeners) {
        try {
          fn(b);
        } catch (err) {
          this.opts.log?.(
            `batch listener failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
    });
    if (session.source instanceof ReplaySource) {
      // Seeking back replays from the start: the log must start over with it.
      session.source.queue.on((e) => {
        if (e.type === 'reset' && this.session === session) this.resetView(session);
        if (e.type === 'end' && this.session === session)
          this.notice(
            e.error ? 'warning' : 'info',
            e.error
              ? `replay stopped: ${e.error.message}`
              : 'replay finished: the whole recording was played',
          );
      });
    }
    this.recording.sessionOpened({
      queue: session.source.queue.id,
      source: session.source.kind,
      ...(opts.device ? { device: opts.device } : {}),
      ...(opts.pasid !== undefined ? { pasid: opts.pasid } : {}),
      policy,
      extra: { objects: session.objects() },
    });
    this.setState({
      source: session.source.kind,
      file: session.source instanceof ReplaySource ? path.basename(session.source.file) : null,
      device: opts.device ?? null,
      pasid: opts.pasid ?? null,
      policy: formatPolicyText(policy),
      canInject: session.source.canInject,
      startedAt: view.startedAt,
      lastError: null,
    });
    this.broadcast('topology.changed', session.objects());
    this.frames.setActive(true);
    this.frames.changed();
    return this.sessionState();
  }

  /** A fresh fault log and charts for the open session (a replay sought backward). */
  private resetView(session: FaultSession): void {
    this.view = this.newView(session);
    this.frames.changed();
  }

  private newView(session: FaultSession): SessionView {
    const src = session.source;
    const q = src instanceof ReplaySource ? src.queue : undefined;
    return new SessionView({
      ...(this.opts.logMaxGroups !== undefined ? { maxGroups: this.opts.logMaxGroups } : {}),
      ...(this.opts.logMaxRawRecords !== undefined ? { maxRaw: this.opts.logMaxRawRecords } : {}),
      clock: q && { startNs: q.index.firstNs ?? 0, nowNs: () => q.livePositionNs() },
    });
  }

  /** Throws unless a dropped or menu-opened recording can be opened now (a replay open is replaced). */
  checkCanOpenReplay(): void {
    if (this.closing) throw new RequestError('ECLOSING', 'the core is shutting down');
    const src = this.session && !this.session.closed ? this.session.source : undefined;
    if (src && !(src instanceof ReplaySource)) {
      throw new RequestError(
        'EBUSY',
        `a ${src.kind} session is open: close it in the Session view first (closing drains what is pending), then open the recording`,
      );
    }
  }

  /**
   * Open the recording at `file` as the replay session, replacing an open
   * replay. Only the core and the Electron main process call this with a path
   * (File > Open, a saved upload); clients name files, never paths.
   */
  async openReplayFile(file: string): Promise<SessionState> {
    this.checkCanOpenReplay();
    if (this.session) await this.closeSession();
    try {
      return this.openSession({ source: 'replay', replay: { file } });
    } catch (err) {
      if (!(err instanceof RecordingError)) throw err;
      const where = /byte \d/.test(err.message) ? '' : ` (at byte ${err.offset})`;
      const message = `${path.basename(file)}: ${err.message}${where}`;
      this.setState({ lastError: message });
      throw new RequestError('ECORRUPT', message);
    }
  }

  private onSessionClosed(session: FaultSession, summary: SessionSummary): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.unsubscribeSession?.();
    this.unsubscribeSession = undefined;
    this.metrics.queueClosed(session.source.queue.id);
    this.recording.sessionClosed();
    this.lastSummary = summary;
    if (this.view) this.view.totals = summary;
    this.frames.setActive(false);
    const problems = summary.teardownErrors;
    this.setState({
      source: null,
      file: null,
      device: null,
      pasid: null,
      canInject: false,
      startedAt: null,
      lastError: problems.length ? problems.join('; ') : this.state.lastError,
    });
    if (problems.length) this.notice('warning', `session teardown: ${problems.join('; ')}`);
    this.broadcast('topology.changed', this.vevents.objects());
    this.frames.changed();
  }

  /** Drain with `code` (default: the drain-code setting), tear down; pending is 0 after. */
  async closeSession(code: 0 | 1 = this.state.drainCode): Promise<SessionSummary | undefined> {
    const session = this.session;
    if (!session) return undefined;
    const summary = await session.close({ drainCode: code });
    // 'closed' listeners already ran; make sure the state is final even if not.
    this.onSessionClosed(session, summary);
    return summary;
  }

  /** Shut down: close the session (draining), stop the watcher and frames. Idempotent. */
  close(code: 0 | 1 = this.state.drainCode): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.closeSession(code);
      } finally {
        this.uploads.close();
        this.vevents.dispose();
        this.recording.close(); // after the final drain's batch
        this.host.stop();
        this.frames.dispose();
        await this.opts.activity?.stop();
      }
    })();
    return this.closing;
  }

  /** Start natively paced injection on the open session (sim, mock). */
  startInject(spec: InjectSpec): void {
    const session = this.requireSession('inject.start');
    if (!session.source.canInject) {
      throw new RequestError(
        'ENOTSUP',
        `inject.start: the ${session.source.kind} source cannot inject (use sim or mock)`,
      );
    }
    session.inject(spec);
    this.broadcast('topology.changed', session.objects());
    this.frames.changed();
  }

  // --- frames ---------------------------------------------------------------

  private frameContent(withCharts: boolean): FrameContent {
    return viewFrameContent(this.view, this.session, withCharts);
  }

  // --- requests -------------------------------------------------------------

  private requireSession(what: string): FaultSession {
    if (!this.session || this.session.closed) {
      throw new RequestError(
        'ENOSESSION',
        `${what}: no fault session is open; open one first (session.open)`,
      );
    }
    return this.session;
  }

  private makeHandlers(): Handlers {
    return {
      'app.info': async () =>
        this.opts.appInfo?.() ?? probeAppInfo({ version: this.opts.version, mode: this.opts.mode }),

      'host.snapshot': async () => this.host.topology ?? (await this.startHost()),

      'session.state': async () => this.sessionState(),

      'session.open': async (p) =>
        p.source === 'replay'
          ? this.openSession({
              source: 'replay',
              replay: {
                file: recordingPath(this.recordingDir, p.file),
                ...(p.speed !== undefined ? { speed: p.speed } : {}),
              },
            })
          : this.openSession({
              source: p.source,
              ...(p.source === 'iommufd' ? { device: p.device } : {}),
              ...(p.source === 'iommufd' && p.pasid !== undefined ? { pasid: p.pasid } : {}),
              ...(p.policy !== undefined ? { policy: parsePolicyText(p.policy) } : {}),
            }),

      'session.close': async () => {
        await this.closeSession();
        return this.sessionState();
      },

      'session.setDrainCode': async (p) => {
        this.setState({ drainCode: p.code });
        return this.sessionState();
      },

      'topology.objects': async (): Promise<IommufdObjects | null> =>
        this.session && !this.session.closed ? this.session.objects() : this.vevents.objects(),

      'policy.set': async (p) => {
        const spec = parsePolicyText(p.spec);
        if (this.session && !this.session.closed) {
          this.session.setPolicy(spec);
          this.recording.policyChanged(this.session.source.queue.id, spec, 'dashboard');
        }
        this.policy = spec;
        this.setState({ policy: formatPolicyText(spec) });
        return this.sessionState();
      },

      'inject.start': async (p) => {
        this.startInject(parseInject(p.spec));
        return { ok: true };
      },

      'inject.stop': async () => {
        this.requireSession('inject.stop').stopInject();
        this.frames.changed();
        return { ok: true };
      },

      ...viewHandlers(() => this.view),

      'faults.respond': async (p) => {
        const session = this.requireSession('faults.respond');
        const out = respondToGroups(session, p.groups, p.code, this.view);
        this.frames.changed();
        return out;
      },

      'faults.drain': async (p) => {
        const session = this.requireSession('faults.drain');
        let answered: number;
        if (!p.filter) {
          answered = session.drain(p.code);
        } else {
          // Exactly the pending groups matching the filter: every pending group has a row.
          answered = session.drain(p.code, { groups: this.view!.log.pendingMatching(p.filter) });
        }
        this.frames.changed();
        return { answered };
      },

      'errors.dismiss': async (p) => {
        this.view?.errors.dismiss(p.upTo);
        this.frames.changed();
        return { ok: true };
      },
      'activity.snapshot': async () =>
        this.opts.activity?.snapshot() ?? { enabled: false, sources: [], events: [], rates: [] },
      'recording.start': async (p) => this.recording.start(p.name),
      'recording.stop': async () => this.recording.stop(),
      'recording.status': async () => this.recording.status(),
      ...replayHandlers({
        source: () => (this.session && !this.session.closed ? this.session.source : undefined),
        changed: () => this.frames.changed(),
      }),
      ...replayUploadHandlers(this.uploads),
      ...veventHandlers(this.vevents),

      'stream.resync': async (_p, ctx: RequestContext) => {
        ctx.emit('session.changed', this.sessionState());
        ctx.emit(
          'topology.changed',
          this.session && !this.session.closed ? this.session.objects() : this.vevents.objects(),
        );
        const topo = this.host.topology;
        if (topo) {
          ctx.emit('host.changed', {
            seq: this.lastHostUpdate?.seq ?? 0,
            changes: [],
            topology: topo,
          });
        }
        ctx.emit('frame', this.frames.full());
        ctx.emit('vevent.frame', this.vevents.fullFrame());
        return { ok: true };
      },
    };
  }
}
