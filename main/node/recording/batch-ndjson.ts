// NDJSON lines for one FaultBatch: exactly what `watch --json` prints for it
// (the same formatter, so replay and export agree with watch line for line):
// one `fault` line per page request, one `response` line per answer, `error`
// and `overflow` lines, each carrying the group's sequence number (a decimal
// string, like the dashboard's group ids). Used by `replay --json` and
// `export --format ndjson`.
import { answeredByNames } from '../../common/contract';
import type { FaultBatch } from '../native/addon-types';
import { decodeBatch } from '../session/decode-batch';
import { batchToNdjson } from '../cli/watch-output';
import type { DecodedFrame } from './frames';

export const codeName = (c: number): string =>
  c === 0 ? 'success' : c === 1 ? 'invalid' : `code${c}`;
export const byName = (b: number): string => answeredByNames[b] ?? `by${b}`;

export function faultBatchToNdjson(b: FaultBatch): string {
  return batchToNdjson(decodeBatch(b, 0)).text;
}

/** Frames other than batches, as NDJSON (policy changes, notes, topology changes ...). */
export function otherFrameLine(f: DecodedFrame): string | null {
  switch (f.kind) {
    case 'session':
    case 'policy':
    case 'note':
    case 'host-activity':
    case 'topology-change':
    case 'vevent':
      return JSON.stringify(
        f.kind === 'vevent'
          ? { ...f, type: f.kind, data: Buffer.from(f.data).toString('hex') }
          : { ...f, type: f.kind },
      );
    default:
      return null;
  }
}
