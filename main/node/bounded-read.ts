// Every file the app reads by name goes through here: a regular file only
// (a FIFO would block the open or read forever, /dev/zero would never end),
// opened non-blocking so that a FIFO or device cannot hang the open itself,
// and no more than a stated number of bytes. Errors name the file, the cause
// and the fix.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

export const KiB = 1024;
export const MiB = 1024 * KiB;

export class FileReadError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

const sizeText = (n: number): string =>
  n >= MiB ? `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MiB` : `${Math.ceil(n / KiB)} KiB`;

/**
 * The whole of `file` as bytes, refusing anything but a regular file of at
 * most `maxBytes`. `what` names the file's role in messages ("the rules file").
 */
export function readBoundedFile(file: string, maxBytes: number, what = 'the file'): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'it does not exist' : (e.message ?? String(err));
    throw new FileReadError(file, e.code ?? 'EIO', `cannot open ${what} ${file}: ${why}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new FileReadError(
        file,
        'ENOTREG',
        `${what} ${file} is ${fileKind(st)}, not a regular file: give the path of a file ` +
          '(for a pipe or process substitution, save it to a file first)',
      );
    }
    if (st.size > maxBytes) {
      throw new FileReadError(
        file,
        'EFBIG',
        `${what} ${file} is ${sizeText(st.size)}, more than the ${sizeText(maxBytes)} limit: ` +
          'is it the right file?',
      );
    }
    // Read until EOF, but never more than one byte past the limit (a file may grow after fstat).
    const chunks: Buffer[] = [];
    let have = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * KiB, maxBytes + 1 - have));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      have += n;
      if (have > maxBytes) {
        throw new FileReadError(
          file,
          'EFBIG',
          `${what} ${file} grew past the ${sizeText(maxBytes)} limit while being read`,
        );
      }
    }
    return Buffer.concat(chunks, have);
  } finally {
    closeSync(fd);
  }
}

export function readBoundedText(file: string, maxBytes: number, what?: string): string {
  return readBoundedFile(file, maxBytes, what).toString('utf8');
}
