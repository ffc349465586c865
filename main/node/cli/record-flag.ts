// `watch --record FILE`: the flag, and the recorder started on the session's
// batch stream with the session's set-up as the first frame. The lead spreads
// recordFlagSpec into watch's flag table and calls startWatchRecording right
// after the session opened (see the hook-up notes in the report).
import type { PolicySpec } from '../../common/policy';
import type { BatchSubscribe } from '../recording/batch-tap';
import { Recorder } from '../recording/recorder';
import { packageVersion } from '../dashboard/version';
import type { FlagSpec } from './args';

export const recordFlagSpec = {
  record: {
    type: 'string',
    value: 'FILE',
    help: 'record everything the session sees and does to FILE (a new .pcapng.gz capture; replay, export, Wireshark)',
  },
} satisfies FlagSpec;

export interface WatchRecordingInfo {
  queue: number;
  source: string;
  device?: string;
  pasid?: number;
  policy: PolicySpec;
  inject?: unknown;
}

/** Start recording; throws an Error naming the file and the fix (exists, no folder ...). */
export function startWatchRecording(
  file: string,
  subscribe: BatchSubscribe,
  info: WatchRecordingInfo,
  onError: (err: Error) => void,
): Recorder {
  const rec = Recorder.start({ path: file, toolVersion: packageVersion(), subscribe, onError });
  const { queue, source, device, pasid, policy, inject } = info;
  rec.session({
    queue,
    source,
    ...(device !== undefined ? { device } : {}),
    ...(pasid !== undefined ? { pasid } : {}),
    policy,
    ...(inject !== undefined ? { extra: { inject } } : {}),
  });
  return rec;
}
