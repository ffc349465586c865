// The replay timeline's requests (pause, resume, step, seek, speed) and the
// chunked upload of a dropped recording, spread into `requests` in
// contract.ts. Times are recorded time in ms since the recording's first
// batch. A client never names a path: an upload is saved by the core, in its
// recordings folder, under a name the core picks.
import { number, object, string, trusted } from './schema';
import type { SessionState } from './contract';

/** The speeds the timeline offers; replay.speed accepts anything in between too. */
export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;
export const MIN_REPLAY_SPEED = REPLAY_SPEEDS[0];
export const MAX_REPLAY_SPEED = REPLAY_SPEEDS[REPLAY_SPEEDS.length - 1]!;

/** Where a replay stands; every frame of a replay session carries it. */
export interface ReplayState {
  /** The recording's file name (in the core's recordings folder, or as opened from the menu). */
  file: string;
  /** Recorded time reached, ms since the first batch. */
  positionMs: number;
  /** First to last batch, ms. */
  durationMs: number;
  /** Wall clock of the recording's first batch (ms since the epoch), for labels. */
  startWallMs: number;
  /** Batches of the played queue delivered so far / in the recording. */
  batchIndex: number;
  batchCount: number;
  paused: boolean;
  speed: number;
  /** Every batch was played (or the damage was reached). */
  ended: boolean;
  /** Where the file stops being readable, if it does (everything before it plays). */
  damage: { offset: number; message: string } | null;
  /** The recorder closed the file (false: it was killed, or is still writing). */
  closed: boolean;
  /** Seeks back so far: when it moves, every view starts over (the core replayed from the start). */
  resets: number;
}

/** Bytes of one upload chunk before base64 (the contract's messages are at most 1 MiB). */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;
/** Default cap on an uploaded recording. */
export const DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

const replayState = trusted<ReplayState>('ReplayState');

export const replayRequests = {
  /** The open replay's position (ENOTREPLAY when the session is not a replay). */
  'replay.state': { params: object({}), result: replayState },
  'replay.pause': { params: object({}), result: replayState },
  'replay.resume': { params: object({}), result: replayState },
  /** Pauses, then delivers exactly the next batch. */
  'replay.step': { params: object({}), result: replayState },
  /** Go to recorded time `toMs` (0..durationMs); going back replays from the start. */
  'replay.seek': {
    params: object({ toMs: number({ min: -Number.MAX_VALUE }) }),
    result: replayState,
  },
  'replay.speed': { params: object({ x: number() }), result: replayState },
  /**
   * A dropped recording, in chunks (Electron; browser mode POSTs it instead):
   * begin names it (a display name only) and its size, chunks go in order,
   * finish saves it in the recordings folder and opens it as a replay.
   */
  'replay.uploadBegin': {
    params: object({
      name: string({ max: 255 }),
      size: number({ int: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
    }),
    result: trusted<{ upload: string; maxBytes: number }>('upload'),
  },
  'replay.uploadChunk': {
    params: object({
      upload: string({ max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
      offset: number({ int: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
      /** base64 of at most UPLOAD_CHUNK_BYTES bytes. */
      data: string({
        max: Math.ceil(UPLOAD_CHUNK_BYTES / 3) * 4,
        pattern: /^[A-Za-z0-9+/]*={0,2}$/,
      }),
    }),
    result: trusted<{ received: number }>('received'),
  },
  'replay.uploadFinish': {
    params: object({ upload: string({ max: 64, pattern: /^[A-Za-z0-9_-]+$/ }) }),
    result: trusted<SessionState>('SessionState'),
  },
};

/**
 * Browser mode: POST the file's bytes to this path under the app's prefix
 * (`/<prefix>/upload/recording?name=NAME`, token cookie as for the page);
 * the answer is the SessionState as JSON, or { code, message } with 413 over
 * the cap, 409 while another session is open, 422 for a damaged file.
 */
export const UPLOAD_ROUTE = 'upload/recording';
