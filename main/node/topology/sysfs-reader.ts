// Where sysfs bytes come from: the native batch reader (one N-API call per
// scan phase), or plain node:fs as a fallback when the addon is not built
// and as the reference the benchmark compares against. Both give the same
// SysfsResult, so the scanner does not care which one it has.
import fs from 'node:fs';
import path from 'node:path';
import type { NativeAddon, SysfsError, SysfsRequest, SysfsResult } from '../native/addon-types';
import { loadAddon } from '../native/load';
import { fileKind } from '../bounded-read';

export interface SysfsReader {
  readonly kind: 'native' | 'node';
  readonly root: string;
  read(request: SysfsRequest): SysfsResult;
  readAsync(request: SysfsRequest): Promise<SysfsResult>;
}

export function isSysfsError(v: unknown): v is SysfsError {
  return typeof v === 'object' && v !== null && !(v instanceof ArrayBuffer) && !Array.isArray(v);
}

/** The native reader; throws (with the build hint) when the addon cannot be loaded. */
export function nativeReader(root: string, addon: NativeAddon = loadAddon()): SysfsReader {
  if (typeof addon.readSysfs !== 'function') {
    throw new Error('iommuscope: this build of the native addon has no readSysfs; rebuild it');
  }
  return {
    kind: 'native',
    root,
    read: (request) => addon.readSysfs(root, request),
    readAsync: (request) => addon.readSysfsAsync(root, request),
  };
}

const DEFAULT_MAX_BYTES = 65536;

function toError(err: unknown, op: string, rel: string): SysfsError {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : 'EIO';
  const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : 5;
  if ((e as { refused?: boolean }).refused) return { code, errno, message: `${rel} ${e.message}` };
  const why = e.message?.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '') ?? String(err);
  return { code, errno, message: `${op} ${rel}: ${why}` };
}

/** Like the native reader: regular files only (a FIFO or device would hang or never end), non-blocking open. */
function readCapped(file: string, maxBytes: number): Buffer {
  const kind = fs.statSync(file);
  if (!kind.isFile()) throw notRegular(kind);
  const fd = fs.openSync(
    file,
    fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY,
  );
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegular(st);
    const buf = Buffer.allocUnsafe(maxBytes);
    let have = 0;
    while (have < maxBytes) {
      const n = fs.readSync(fd, buf, have, Math.min(4096, maxBytes - have), null);
      if (n === 0) break;
      have += n;
    }
    return buf.subarray(0, have);
  } finally {
    fs.closeSync(fd);
  }
}

function notRegular(st: fs.Stats): NodeJS.ErrnoException {
  const why = `is ${fileKind(st)}, not a regular file: not read (sysfs attributes are regular files)`;
  return Object.assign(new Error(why), {
    code: 'EINVAL',
    errno: 22,
    refused: true,
  });
}

/** node:fs implementation of the same contract (synchronous I/O). */
export function nodeReader(root: string): SysfsReader {
  const read = (request: SysfsRequest): SysfsResult => {
    if (!fs.existsSync(root)) {
      const err = new Error(`readSysfs: cannot open root ${root}: No such file or directory`);
      Object.assign(err, { code: 'ENOENT', errno: 2, syscall: `open ${root}` });
      throw err;
    }
    const max = request.maxBytes ?? DEFAULT_MAX_BYTES;
    const abs = (rel: string) => path.join(root, rel.replace(/^\/+/, ''));
    const files = (request.files ?? []).map((rel) => {
      try {
        return readCapped(abs(rel), max).toString('utf8');
      } catch (err) {
        return toError(err, 'open', rel);
      }
    });
    const binary = (request.binary ?? []).map((rel) => {
      try {
        const b = readCapped(abs(rel), max);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
      } catch (err) {
        return toError(err, 'open', rel);
      }
    });
    const dirs = (request.dirs ?? []).map((rel) => {
      try {
        return fs.readdirSync(abs(rel));
      } catch (err) {
        return toError(err, 'opendir', rel);
      }
    });
    const links = (request.links ?? []).map((rel) => {
      try {
        return fs.readlinkSync(abs(rel));
      } catch (err) {
        return toError(err, 'readlink', rel);
      }
    });
    return { files, binary, dirs, links };
  };
  return {
    kind: 'node',
    root,
    read,
    readAsync: async (request) => read(request),
  };
}

/** The native reader when the addon loads, else node:fs (reason in `fallbackReason`). */
export function defaultReader(root: string): SysfsReader & { fallbackReason?: string } {
  try {
    return nativeReader(root);
  } catch (err) {
    return {
      ...nodeReader(root),
      fallbackReason: err instanceof Error ? err.message : String(err),
    };
  }
}
