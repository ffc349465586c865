// The dashboard's recording requests (Record button), spread into
// `requests` in contract.ts by the lead. The core picks the folder; a client
// may only name the file inside it, so a browser tab cannot write anywhere.
import { object, optional, string, trusted } from './schema';

/** Where a recording stands, as the Record button shows it. */
export interface RecordingStatus {
  /** The capture file (absolute path on the core's machine); null before the first recording. */
  path: string | null;
  recording: boolean;
  pageRequests: number;
  groups: number;
  answers: number;
  frames: number;
  rawBytes: number;
  fileBytes: number;
  /** fileBytes / pageRequests, null before the first page request. */
  bytesPerPageRequest: number | null;
  /** Why the last recording stopped on its own (disk full ...), else null. */
  error: string | null;
}

/** A file name without folders; `.pcapng.gz` is appended when missing. */
export const RECORDING_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const recordingRequests = {
  /** Start recording the open session (and everything after it) to a new file. */
  'recording.start': {
    params: object({ name: optional(string({ max: 100, pattern: RECORDING_NAME })) }),
    result: trusted<RecordingStatus>('RecordingStatus'),
  },
  /** Stop and close the file (a no-op when not recording). */
  'recording.stop': { params: object({}), result: trusted<RecordingStatus>('RecordingStatus') },
  'recording.status': { params: object({}), result: trusted<RecordingStatus>('RecordingStatus') },
};
