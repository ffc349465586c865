// A recorded session built from contract batches: what the replay, export
// and metrics tests read back.
import { Recorder } from '../../main/node/recording/recorder';
import type { FaultBatch } from '../../main/node/native/addon-types';
import { ContractQueue } from './contract-batches';

export interface RecordedSession {
  file: string;
  batches: FaultBatch[];
  /** Recorded delivery time of each batch (CLOCK_MONOTONIC ns of the recording). */
  deliveredNs: number[];
}

/**
 * `batchCount` batches `gapMs` apart (recorded time): each reads 3 groups on
 * devices 1-2 and PASIDs 1-3 (one of 2 pages), and answers the groups of the
 * batch before (policy, user, drain in turn); the last batch drains the rest.
 */
export function recordSession(
  file: string,
  batchCount: number,
  gapMs: number,
  queueId = 5,
): RecordedSession {
  const q = new ContractQueue(queueId, { startNs: 10_000_000_000 });
  const rec = Recorder.start({ path: file, toolVersion: 'test' });
  rec.session({ queue: queueId, source: 'mock', policy: { fallback: { kind: 'success' } } });
  const batches: FaultBatch[] = [];
  const deliveredNs: number[] = [];
  let prev: number[] = [];
  for (let i = 0; i < batchCount; i++) {
    prev.forEach((g, k) =>
      q.answer({
        group: g,
        code: k === 2 ? 1 : 0,
        by: ([1, 0, 2] as const)[k]!,
        rule: k === 0 ? 0 : -1,
      }),
    );
    prev = [0, 1, 2].map((k) =>
      q.read({
        pages: k === 1 ? 2 : 1,
        devId: 1 + (k % 2),
        pasid: 1 + ((i + k) % 3),
        perm: k === 2 ? 2 : 1,
      }),
    );
    if (i === batchCount - 1) for (const g of prev) q.answer({ group: g, code: 1, by: 2 });
    q.tick(gapMs * 1e6);
    const b = q.flush();
    batches.push(b);
    deliveredNs.push(q.now);
    rec.batch(b, q.now);
  }
  rec.note('end of test session');
  rec.stop('test done');
  return { file, batches, deliveredNs };
}
