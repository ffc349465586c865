// The replay timeline's requests on the open replay session: pause, resume,
// step, seek and speed, on the session's ReplayQueue. Every answer is the
// new ReplayState; the frame carries the same state to every client. A seek
// answers once the queue has delivered every batch up to the target, so the
// frame and the fault log the client reads next are those of that point.
import path from 'node:path';
import {
  MAX_REPLAY_SPEED,
  MIN_REPLAY_SPEED,
  REPLAY_SPEEDS,
  type ReplayState,
} from '../../common/replay-contract';
import { RequestError } from '../../common/request-error';
import type { ReplayQueue } from '../recording/replay-queue';
import { ReplaySource } from '../sources/replay-source';
import type { FaultSource } from '../sources/fault-source';
import type { Handlers } from './dispatch';

/** What the control needs of the core: the open session's source, and a way to send a frame. */
export interface ReplayHost {
  /** The open session's source; undefined when none is open. */
  source(): FaultSource | undefined;
  changed(): void;
}

/** Wall-clock ms (since the epoch) of recorded CLOCK_MONOTONIC time `ns`. */
export function recordedWallMs(q: ReplayQueue, ns: number): number {
  const h = q.index.header;
  return Number(h.startWallNs) / 1e6 + (ns - Number(h.startMonoNs)) / 1e6;
}

export function replayState(src: ReplaySource): ReplayState {
  const q = src.queue;
  const first = q.index.firstNs ?? 0;
  const durationMs = Math.max(0, ((q.index.lastNs ?? first) - first) / 1e6);
  const pos = q.position();
  const progress = q.batchProgress();
  const err = q.index.error;
  return {
    file: path.basename(src.file),
    positionMs: Math.min(durationMs, Math.max(0, (q.livePositionNs() - first) / 1e6)),
    durationMs,
    startWallMs: recordedWallMs(q, first),
    batchIndex: progress.index,
    batchCount: progress.count,
    paused: pos.paused,
    speed: pos.speed,
    ended: q.done,
    damage: err ? { offset: err.offset, message: err.message } : null,
    closed: q.index.closed,
    resets: q.resets,
  };
}

/** Resolves once a seek has delivered everything up to its target (or reached the end). */
function seekSettled(q: ReplayQueue): Promise<void> {
  if (!q.seeking) return Promise.resolve();
  return new Promise((resolve) => {
    const off = q.on((e) => {
      if (e.type === 'position' || e.type === 'end' || e.type === 'reset') {
        if (e.type === 'reset') return;
        off();
        resolve();
      }
    });
  });
}

type ReplayHandlerNames =
  | 'replay.state'
  | 'replay.pause'
  | 'replay.resume'
  | 'replay.step'
  | 'replay.seek'
  | 'replay.speed';

export function replayHandlers(host: ReplayHost): Pick<Handlers, ReplayHandlerNames> {
  const open = (what: string): ReplaySource => {
    const src = host.source();
    if (!src) {
      throw new RequestError(
        'ENOSESSION',
        `${what}: no session is open; open a recording first (File > Open Recording…, drop a .pcapng.gz on the window, or the Session view)`,
      );
    }
    if (!(src instanceof ReplaySource)) {
      throw new RequestError(
        'ENOTREPLAY',
        `${what}: the open session is ${src.kind}, not a replay; the timeline controls only recordings (close it and open a recording)`,
      );
    }
    return src;
  };
  const answer = (src: ReplaySource): ReplayState => {
    host.changed();
    return replayState(src);
  };
  return {
    'replay.state': async () => replayState(open('replay.state')),
    'replay.pause': async () => {
      const src = open('replay.pause');
      src.queue.pause();
      return answer(src);
    },
    'replay.resume': async () => {
      const src = open('replay.resume');
      await seekSettled(src.queue);
      src.queue.resume();
      return answer(src);
    },
    'replay.step': async () => {
      const src = open('replay.step');
      await seekSettled(src.queue);
      src.queue.pause();
      src.queue.step();
      return answer(src);
    },
    'replay.seek': async (p) => {
      const src = open('replay.seek');
      const q = src.queue;
      const first = q.index.firstNs ?? 0;
      const durationMs = ((q.index.lastNs ?? first) - first) / 1e6;
      if (p.toMs < 0 || p.toMs > durationMs) {
        throw new RequestError(
          'ERANGE',
          `replay.seek: ${p.toMs} ms is outside the recording (0..${durationMs} ms of recorded time); seek within it`,
        );
      }
      await seekSettled(q);
      q.seek(first + p.toMs * 1e6);
      await seekSettled(q);
      return answer(src);
    },
    'replay.speed': async (p) => {
      const src = open('replay.speed');
      if (!(p.x >= MIN_REPLAY_SPEED && p.x <= MAX_REPLAY_SPEED)) {
        throw new RequestError(
          'ERANGE',
          `replay.speed: ${p.x}× is outside ${MIN_REPLAY_SPEED}×..${MAX_REPLAY_SPEED}× (the timeline offers ${REPLAY_SPEEDS.join(', ')})`,
        );
      }
      src.queue.setSpeed(p.x);
      return answer(src);
    },
  };
}
