// Reads a capture file frame by frame with bounded memory (one BGZF block,
// at most 64 KiB, at a time). A torn or corrupt file yields every frame
// before the damage, then throws a RecordingError naming the file offset.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BGZF_EOF, readBgzfBlocks, type ByteSource } from './bgzf';
import { PcapngParser, type PcapngPacket } from './pcapng';
import {
  CAPTURE_FORMAT_VERSION,
  CAPTURE_MAGIC,
  decodeFrame,
  FrameDecodeError,
  type DecodedFrame,
  type HeaderFrame,
} from './frames';
import { RecordingError } from './recording-error';

/** A frame and the file offset of the BGZF block its pcapng block starts in. */
export interface LocatedFrame {
  frame: DecodedFrame;
  fileOffset: number;
}

/** What the end of the read said about the file, set once the generator finishes. */
export interface CaptureEnd {
  /** The BGZF end-of-file marker was the last block: the writer closed the file. */
  closed: boolean;
  header: HeaderFrame | null;
}

/**
 * Every frame in order (the header first). `end` is filled in when the
 * generator returns; a RecordingError is thrown after the good frames.
 */
export function* captureFrames(
  src: ByteSource,
  end: CaptureEnd = { closed: false, header: null },
): Generator<LocatedFrame> {
  let header: HeaderFrame | null = null;
  let clockOffset = 0n;
  const queue: PcapngPacket[] = [];
  const parser = new PcapngParser((p) => queue.push(p));
  let lastBlockEmpty = false;
  for (const block of readBgzfBlocks(src)) {
    lastBlockEmpty = block.data.length === 0 && block.size === BGZF_EOF.length;
    parser.feed(block.data, block.offset);
    while (queue.length) {
      const p = queue.shift()!;
      let frame: DecodedFrame;
      try {
        frame = decodeFrame(p.data, header ? Number(p.tsNs - clockOffset) : 0);
      } catch (err) {
        if (!(err instanceof FrameDecodeError)) throw err;
        throw new RecordingError(
          p.fileOffset,
          `corrupt frame in the BGZF block at byte ${p.fileOffset}: ${err.message}`,
          'corrupt',
        );
      }
      if (!header) {
        header = checkHeader(frame, p.fileOffset);
        clockOffset = BigInt(header.startWallNs) - BigInt(header.startMonoNs);
        end.header = header;
      }
      yield { frame, fileOffset: p.fileOffset };
    }
  }
  parser.end(src.size);
  if (!header) throw new RecordingError(0, 'the capture ends before its header frame', 'truncated');
  end.closed = lastBlockEmpty;
}

function checkHeader(frame: DecodedFrame, offset: number): HeaderFrame {
  if (frame.kind !== 'header' || frame.magic !== CAPTURE_MAGIC) {
    throw new RecordingError(
      offset,
      'not an iommuscope capture: a pcapng file whose first packet is not an iommuscope header ' +
        '(a network capture? open it in Wireshark instead)',
      'corrupt',
    );
  }
  if (frame.formatVersion > CAPTURE_FORMAT_VERSION) {
    throw new RecordingError(
      offset,
      `capture format version ${frame.formatVersion} is newer than this iommuscope reads ` +
        `(${CAPTURE_FORMAT_VERSION}): upgrade iommuscope`,
      'unsupported',
    );
  }
  return frame;
}

/** A file opened for reading as a ByteSource; close() when done. */
export function fileSource(path: string): ByteSource & { close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot open the recording ${path} (${e.code ?? 'error'}): ${e.message}`, {
      cause: err,
    });
  }
  const size = fstatSync(fd).size;
  return {
    size,
    read(position, length) {
      const n = Math.max(0, Math.min(length, size - position));
      const b = Buffer.alloc(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, b, got, n - got, position + got);
        if (r === 0) break;
        got += r;
      }
      return got === n ? b : b.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

export interface CaptureContents {
  header: HeaderFrame | null;
  frames: DecodedFrame[];
  closed: boolean;
  /** Set when the file is torn or corrupt; `frames` holds everything before it. */
  error: RecordingError | null;
}

/** The whole capture in memory (tests, export of small files). */
export function readCapture(src: ByteSource): CaptureContents {
  const end: CaptureEnd = { closed: false, header: null };
  const frames: DecodedFrame[] = [];
  let error: RecordingError | null = null;
  try {
    for (const f of captureFrames(src, end)) frames.push(f.frame);
  } catch (err) {
    if (!(err instanceof RecordingError)) throw err;
    error = err;
  }
  return { header: end.header, frames, closed: end.closed && !error, error };
}
