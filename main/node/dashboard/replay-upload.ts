// A recording dropped on the dashboard window, received by the core: saved
// into the recordings folder under a name the core makes (the client's name
// is only a hint, sanitized, plus a unique suffix), then opened as a replay.
// Browser mode streams it in one HTTP POST (server/upload-route.ts); Electron
// sends it in chunks through the contract (replay.uploadBegin/Chunk/Finish).
// Both stop at the same cap, and bytes are written to disk as they arrive:
// memory stays bounded by one chunk whatever the file's size.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { SessionState } from '../../common/contract';
import { RequestError } from '../../common/request-error';

/** Uploads that may be in progress at once (two tabs dropping files). */
const MAX_CONCURRENT_UPLOADS = 2;
/** An upload that receives nothing for this long is dropped (its tab went away). */
const UPLOAD_IDLE_MS = 60_000;

export interface ReplayUploadsOptions {
  dir: string;
  maxBytes: number;
  /** Throws (EBUSY ...) when a dropped recording could not be opened now; checked before any byte is kept. */
  checkCanOpen(): void;
  /** Open the saved file as the replay session. */
  open(file: string): Promise<SessionState>;
}

/** `dropped name.pcapng.gz` → `dropped_name-1a2b3c4d.pcapng.gz`: only RECORDING_NAME characters. */
export function uploadFileName(hint: string, unique = randomBytes(4).toString('hex')): string {
  const base = path.basename(hint.replaceAll('\\', '/')).replace(/\.pcapng\.gz$|\.gz$/i, '');
  const clean = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/\.{2,}/g, '.')
    .slice(0, 60);
  return `${clean || 'recording'}-${unique}.pcapng.gz`;
}

export function tooLargeMessage(bytes: number | null, maxBytes: number, dir: string): string {
  const what = bytes === null ? 'the recording is' : `the recording (${bytes} bytes) is`;
  return (
    `${what} over the ${maxBytes}-byte upload limit; copy it into ${dir} ` +
    `and open it by name in the Session view, or use File > Open Recording… in the desktop app`
  );
}

interface Upload {
  id: string;
  name: string;
  partPath: string;
  fd: number;
  received: number;
  declared: number | null;
  idle: NodeJS.Timeout;
}

export class ReplayUploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly opts: ReplayUploadsOptions) {}

  get maxBytes(): number {
    return this.opts.maxBytes;
  }

  /** Start receiving `hint` (a display name), `size` bytes when known. */
  begin(hint: string, size: number | null): { upload: string; maxBytes: number } {
    if (size !== null && size > this.opts.maxBytes)
      throw new RequestError('ETOOLARGE', tooLargeMessage(size, this.opts.maxBytes, this.opts.dir));
    this.opts.checkCanOpen();
    if (this.uploads.size >= MAX_CONCURRENT_UPLOADS) {
      throw new RequestError(
        'EBUSY',
        `${this.uploads.size} recordings are being uploaded already; wait for them to finish`,
      );
    }
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    const id = randomBytes(12).toString('base64url');
    const name = uploadFileName(hint);
    const partPath = path.join(this.opts.dir, `.${name}.part`);
    const fd = openSync(partPath, 'wx', 0o600);
    const upload: Upload = {
      id,
      name,
      partPath,
      fd,
      received: 0,
      declared: size,
      idle: setTimeout(() => this.abort(id), UPLOAD_IDLE_MS).unref(),
    };
    this.uploads.set(id, upload);
    return { upload: id, maxBytes: this.opts.maxBytes };
  }

  /** Append the bytes at `offset` (chunks go in order). */
  append(id: string, offset: number, bytes: Uint8Array): { received: number } {
    const u = this.get(id);
    if (offset !== u.received) {
      this.abort(id);
      throw new RequestError(
        'EPARAMS',
        `upload ${id}: chunk at byte ${offset}, expected ${u.received} (chunks go in order); start the upload again`,
      );
    }
    if (u.received + bytes.length > this.opts.maxBytes) {
      this.abort(id);
      throw new RequestError(
        'ETOOLARGE',
        tooLargeMessage(u.declared, this.opts.maxBytes, this.opts.dir),
      );
    }
    let done = 0;
    while (done < bytes.length) done += writeSync(u.fd, bytes, done, bytes.length - done);
    u.received += bytes.length;
    u.idle.refresh();
    return { received: u.received };
  }

  /** Save the file under its final name and open it; a file that does not open is deleted. */
  async finish(id: string): Promise<SessionState> {
    const u = this.get(id);
    this.forget(u);
    if (u.declared !== null && u.received !== u.declared) {
      rmSync(u.partPath, { force: true });
      throw new RequestError(
        'EPARAMS',
        `upload of ${u.name}: received ${u.received} of ${u.declared} bytes; drop the file again`,
      );
    }
    const file = path.join(this.opts.dir, u.name);
    renameSync(u.partPath, file);
    try {
      return await this.opts.open(file);
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    }
  }

  /** Drop an upload and its partial file. */
  abort(id: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    this.forget(u);
    rmSync(u.partPath, { force: true });
  }

  /** Abort every upload (the core shuts down). */
  close(): void {
    for (const id of [...this.uploads.keys()]) this.abort(id);
  }

  private get(id: string): Upload {
    const u = this.uploads.get(id);
    if (!u)
      throw new RequestError(
        'ENOENT',
        `upload ${id} is not in progress (finished, aborted or idle for ${UPLOAD_IDLE_MS / 1000} s); drop the file again`,
      );
    return u;
  }

  private forget(u: Upload): void {
    clearTimeout(u.idle);
    this.uploads.delete(u.id);
    closeSync(u.fd);
  }
}
