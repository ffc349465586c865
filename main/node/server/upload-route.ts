// Browser mode's recording upload: POST <appPath>upload/recording?name=NAME
// with the file as the body. The token was checked by the caller (like every
// request); a browser's Origin must be ours (no cross-site form posts). The
// body streams to disk through ReplayUploads (same cap as Electron's), then
// the file opens as the replay session.
import type http from 'node:http';
import type { ReplayUploads } from '../dashboard/replay-upload';
import { RequestError } from '../../common/request-error';

const STATUS_OF: Record<string, number> = {
  ETOOLARGE: 413,
  EBUSY: 409,
  ECLOSING: 503,
  ECORRUPT: 422,
  EPARAMS: 400,
};

export function statusOf(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof RequestError)
    return { status: STATUS_OF[err.code] ?? 500, code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, code: 'EINTERNAL', message };
}

export async function receiveUpload(
  req: http.IncomingMessage,
  url: URL,
  uploads: ReplayUploads,
  reply: (status: number, body: object) => void,
): Promise<void> {
  const declared = req.headers['content-length'];
  const size = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : null;
  const name = (url.searchParams.get('name') ?? 'recording').slice(0, 255);
  let id: string | undefined;
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    if (id) uploads.abort(id);
    const { status, code, message } = statusOf(err);
    // Answered now; the rest of the body is read and dropped (never kept).
    reply(status, { code, message });
  };
  try {
    id = uploads.begin(name, size).upload;
  } catch (err) {
    fail(err);
  }
  let offset = 0;
  const ended = await new Promise<boolean>((resolve) => {
    req.on('data', (chunk: Buffer) => {
      if (failed || !id) return;
      try {
        offset = uploads.append(id, offset, chunk).received;
      } catch (err) {
        fail(err);
      }
    });
    req.once('end', () => resolve(true));
    req.once('close', () => resolve(false));
    req.once('error', () => resolve(false));
  });
  if (failed || !id) return;
  if (!ended) return uploads.abort(id); // the client went away mid-upload
  try {
    reply(200, await uploads.finish(id));
  } catch (err) {
    fail(err);
  }
}
