// The contract side of a dropped recording (Electron's path; browser mode
// POSTs the bytes instead): begin, base64 chunks in order, finish = open.
import { UPLOAD_CHUNK_BYTES } from '../../common/replay-contract';
import { RequestError } from '../../common/request-error';
import type { Handlers } from './dispatch';
import type { ReplayUploads } from './replay-upload';

export function replayUploadHandlers(
  uploads: ReplayUploads,
): Pick<Handlers, 'replay.uploadBegin' | 'replay.uploadChunk' | 'replay.uploadFinish'> {
  return {
    'replay.uploadBegin': async (p) => uploads.begin(p.name, p.size),
    'replay.uploadChunk': async (p) => {
      const bytes = Buffer.from(p.data, 'base64');
      if (bytes.length > UPLOAD_CHUNK_BYTES) {
        uploads.abort(p.upload);
        throw new RequestError(
          'EPARAMS',
          `replay.uploadChunk: ${bytes.length} bytes is over the ${UPLOAD_CHUNK_BYTES}-byte chunk size`,
        );
      }
      return uploads.append(p.upload, p.offset, bytes);
    },
    'replay.uploadFinish': async (p) => uploads.finish(p.upload),
  };
}
