// Writes a capture file incrementally: frames are buffered in memory and
// written as complete BGZF blocks with write(2) at least once a second, on
// flush() (the recorder calls it on each answer burst) and when 60 KiB are
// buffered, so a crash or kill -9 loses at most the frames of the last
// second. close() writes the End frame and the BGZF end-of-file marker.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import { BGZF_EOF, BGZF_MAX_INPUT, encodeBgzf } from './bgzf';
import { enhancedPacket, interfaceDescription, sectionHeader } from './pcapng';
import {
  CAPTURE_FORMAT_VERSION,
  CAPTURE_MAGIC,
  encodeFrame,
  type Frame,
  type HeaderFrame,
} from './frames';
import { monoNowNs } from './clock';
import { TimestampBase } from './batch-encoder';

export interface CaptureWriterOptions {
  /** Tool name and version for the header (shb_userappl too). */
  toolVersion: string;
  /** Flush at least this often (ms); default 1000. */
  flushIntervalMs?: number;
  /** deflate level 1..9; default 1 (half the CPU of 6 for ~8% more bytes: bench:recording). */
  level?: number;
  /** Overwrite an existing file; default false (refuse). */
  overwrite?: boolean;
  /** For tests: fixed host/kernel/clock values instead of this machine's. */
  host?: string;
  kernel?: string;
  startWallNs?: bigint;
  startMonoNs?: bigint;
  /** A timed flush failed (disk full...): the file was closed where it stood. */
  onFlushError?: (err: Error) => void;
}

export interface CaptureStats {
  frames: number;
  /** Uncompressed pcapng bytes. */
  rawBytes: number;
  /** Bytes written to the file. */
  fileBytes: number;
  blocks: number;
}

export class CaptureWriter {
  private fd: number | null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly clockOffset: bigint;
  private readonly tsBase: TimestampBase;
  private readonly level: number;
  readonly header: HeaderFrame;
  readonly stats: CaptureStats = { frames: 0, rawBytes: 0, fileBytes: 0, blocks: 0 };

  private constructor(
    readonly path: string,
    fd: number,
    opts: CaptureWriterOptions,
  ) {
    this.fd = fd;
    this.level = opts.level ?? 1;
    const startMono = opts.startMonoNs ?? monoNowNs();
    const startWall = opts.startWallNs ?? BigInt(Date.now()) * 1_000_000n;
    this.clockOffset = startWall - startMono;
    this.tsBase = new TimestampBase(this.clockOffset);
    this.header = {
      kind: 'header',
      magic: CAPTURE_MAGIC,
      formatVersion: CAPTURE_FORMAT_VERSION,
      host: opts.host ?? os.hostname(),
      kernel: opts.kernel ?? `${os.type()} ${os.release()} ${os.machine()}`,
      tool: 'iommuscope',
      toolVersion: opts.toolVersion,
      startWall: new Date(Number(startWall / 1_000_000n)).toISOString(),
      startWallNs: startWall.toString(),
      startMonoNs: startMono.toString(),
    };
    const start = Buffer.concat([
      sectionHeader({
        hardware: this.header.host,
        os: this.header.kernel,
        application: `iommuscope ${opts.toolVersion}`,
      }),
      interfaceDescription('iommuscope', 'iommuscope capture frames (see FORMAT.md)'),
      enhancedPacket(startWall, encodeFrame(this.header)),
    ]);
    this.push(start);
    this.stats.frames = 1;
    this.flush(); // the header is on disk before the first fault
    this.timer = setInterval(() => {
      try {
        this.flush();
      } catch (err) {
        this.abort();
        opts.onFlushError?.(err instanceof Error ? err : new Error(String(err)));
      }
    }, opts.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Create `path` and write the header. Throws an Error naming the cause and the fix. */
  static create(path: string, opts: CaptureWriterOptions): CaptureWriter {
    let fd: number;
    try {
      fd = openSync(path, opts.overwrite ? 'w' : 'wx', 0o640);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const fix =
        e.code === 'EEXIST'
          ? 'the file exists: choose another name or delete it first'
          : e.code === 'ENOENT'
            ? 'its folder does not exist'
            : e.code === 'EACCES'
              ? 'no permission to write there'
              : e.message;
      throw new Error(`cannot create the recording ${path} (${e.code ?? 'error'}): ${fix}`, {
        cause: err,
      });
    }
    try {
      return new CaptureWriter(path, fd, opts);
    } catch (err) {
      closeSync(fd);
      const e = err as NodeJS.ErrnoException;
      throw new Error(
        `cannot write the recording ${path} (${e.code ?? 'error'}): ${e.code === 'ENOSPC' ? 'the disk is full' : e.message}`,
        { cause: err },
      );
    }
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /** Buffer one frame; writes a block as soon as a full one is buffered. */
  append(frame: Frame): void {
    if (this.fd === null) throw new Error(`the recording ${this.path} is closed`);
    const mono = frame.kind === 'header' ? 0 : frame.monoNs;
    this.push(enhancedPacket(this.clockOffset + BigInt(Math.round(mono)), encodeFrame(frame)));
    this.stats.frames++;
    if (this.pendingBytes >= BGZF_MAX_INPUT) this.flush();
  }

  /** The capture's clock offset, for encoders that write EPBs themselves (batch-encoder.ts). */
  get timestamps(): TimestampBase {
    return this.tsBase;
  }

  /** Buffer EPBs encoded elsewhere (`frames` of them). */
  appendEncoded(epbs: Buffer, frames: number): void {
    if (this.fd === null) throw new Error(`the recording ${this.path} is closed`);
    this.push(epbs);
    this.stats.frames += frames;
    if (this.pendingBytes >= BGZF_MAX_INPUT) this.flush();
  }

  /** Write everything buffered as complete BGZF blocks. */
  flush(): void {
    if (this.fd === null || this.pendingBytes === 0) return;
    const raw = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const out = encodeBgzf(raw, this.level);
    writeAll(this.fd, out);
    this.stats.fileBytes += out.length;
    this.stats.blocks += Math.ceil(raw.length / BGZF_MAX_INPUT);
  }

  /** Write the End frame, the end-of-file marker, fsync and close. Idempotent. */
  close(reason = 'closed'): CaptureStats {
    if (this.fd === null) return this.stats;
    this.append({ kind: 'end', monoNs: Number(monoNowNs()), reason });
    this.flush();
    writeAll(this.fd, BGZF_EOF);
    this.stats.fileBytes += BGZF_EOF.length;
    clearInterval(this.timer);
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
    return this.stats;
  }

  /** Close the file without writing anything more (after a failed write). */
  abort(): void {
    if (this.fd === null) return;
    clearInterval(this.timer);
    const fd = this.fd;
    this.fd = null;
    this.pending = [];
    this.pendingBytes = 0;
    closeSync(fd);
  }

  private push(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.stats.rawBytes += b.length;
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length;) off += writeSync(fd, b, off);
}
