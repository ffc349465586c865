// A recording dropped on the window goes to the core as bytes, never as a
// path: browser mode POSTs it to the token-protected upload route; Electron
// sends it in base64 chunks through the contract (replay.uploadBegin/Chunk/
// Finish). Either way the core saves it in its recordings folder under its
// own name, with the same size cap, and opens it as the replay session.
import type { SessionState } from '../../../main/common/contract';
import { UPLOAD_CHUNK_BYTES, UPLOAD_ROUTE } from '../../../main/common/replay-contract';
import { RequestError } from '../../../main/common/request-error';
import { useCore } from './index';

/** base64 of bytes, built in slices (String.fromCharCode takes a bounded argument list). */
function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function uploadByContract(file: File): Promise<SessionState> {
  const core = useCore();
  const { upload } = await core.request('replay.uploadBegin', { name: file.name, size: file.size });
  for (let offset = 0; offset < file.size; offset += UPLOAD_CHUNK_BYTES) {
    const part = new Uint8Array(
      await file.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer(),
    );
    await core.request('replay.uploadChunk', { upload, offset, data: toBase64(part) });
  }
  return core.request('replay.uploadFinish', { upload });
}

/** The app's path under the server (`/<prefix>/`): the upload route lives under it. */
function appPath(): string {
  const first = location.pathname.split('/')[1];
  return first ? `/${first}/` : '/';
}

async function uploadByPost(file: File): Promise<SessionState> {
  const query = new URLSearchParams({ name: file.name });
  const token = new URLSearchParams(location.search).get('token');
  if (token) query.set('token', token);
  const res = await fetch(`${appPath()}${UPLOAD_ROUTE}?${query.toString()}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: file,
    credentials: 'same-origin',
  });
  const body = (await res.json().catch(() => null)) as
    (SessionState & { code?: undefined }) | { code: string; message: string } | null;
  if (res.ok && body && body.code === undefined) return body;
  if (body && typeof body.code === 'string' && 'message' in body)
    throw new RequestError(body.code, body.message);
  throw new RequestError(
    `HTTP${res.status}`,
    `the upload failed: HTTP ${res.status} ${res.statusText}`,
  );
}

export function uploadRecording(file: File): Promise<SessionState> {
  return window.iommuscope ? uploadByContract(file) : uploadByPost(file);
}
