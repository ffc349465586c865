// BGZF (the blocked gzip of samtools/htslib): a file of independent gzip
// members, each at most 64 KiB, each naming its own size in a 'BC' extra
// subfield, each with a CRC32. Any gunzip reads the whole file; we read it
// block by block, so a torn or corrupt block is found at its byte offset and
// every block before it still reads.
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { RecordingError } from './recording-error';

/** Largest input per block (htslib's 0xff00: the compressed block then always fits 64 KiB). */
export const BGZF_MAX_INPUT = 0xff00;
const HEADER_BYTES = 18;
const FOOTER_BYTES = 8;
const MAX_BLOCK_BYTES = 0x10000;

/** The empty block htslib writes at a clean end of file. */
export const BGZF_EOF = Buffer.from(
  '1f8b08040000000000ff0600424302001b0003000000000000000000',
  'hex',
);

function blockHeader(totalBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff], 0); // ID1 ID2 CM=deflate FLG=FEXTRA MTIME=0 XFL OS=unknown
  h.writeUInt16LE(6, 10); // XLEN
  h.set([0x42, 0x43], 12); // 'B' 'C'
  h.writeUInt16LE(2, 14); // SLEN
  h.writeUInt16LE(totalBytes - 1, 16); // BSIZE
  return h;
}

/** One BGZF block holding `data` (at most BGZF_MAX_INPUT bytes). */
export function encodeBgzfBlock(data: Uint8Array, level = 6): Buffer {
  if (data.length > BGZF_MAX_INPUT) {
    throw new RangeError(`BGZF block input ${data.length} > ${BGZF_MAX_INPUT} bytes`);
  }
  let cdata = deflateRawSync(data, { level });
  if (cdata.length + HEADER_BYTES + FOOTER_BYTES > MAX_BLOCK_BYTES)
    cdata = deflateRawSync(data, { level: 0 });
  const total = HEADER_BYTES + cdata.length + FOOTER_BYTES;
  const footer = Buffer.alloc(FOOTER_BYTES);
  footer.writeUInt32LE(crc32(data) >>> 0, 0);
  footer.writeUInt32LE(data.length, 4);
  return Buffer.concat([blockHeader(total), cdata, footer], total);
}

/** `data` split into as many blocks as it needs, concatenated. */
export function encodeBgzf(data: Uint8Array, level = 6): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += BGZF_MAX_INPUT) {
    parts.push(encodeBgzfBlock(data.subarray(off, off + BGZF_MAX_INPUT), level));
  }
  return Buffer.concat(parts);
}

/** Random-access bytes: a whole buffer in memory or an open file. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position` (fewer only at the end). */
  read(position: number, length: number): Buffer;
}

export function bufferSource(buf: Uint8Array): ByteSource {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return { size: b.length, read: (pos, len) => b.subarray(pos, Math.min(pos + len, b.length)) };
}

export interface BgzfBlock {
  /** File offset of the block's first byte. */
  offset: number;
  /** Compressed size including header and footer. */
  size: number;
  data: Buffer;
}

/**
 * Every block from `start`, in order. Throws a RecordingError naming the
 * offset of the first block that is torn or corrupt, after yielding all the
 * blocks before it.
 */
export function* readBgzfBlocks(src: ByteSource, start = 0): Generator<BgzfBlock> {
  let pos = start;
  while (pos < src.size) {
    const head = src.read(pos, HEADER_BYTES);
    const torn = (what: string): RecordingError =>
      new RecordingError(
        pos,
        `${what}: the file ends at byte ${src.size}, inside the BGZF block that starts at byte ${pos} ` +
          '(the recording stopped mid-write, e.g. killed; everything before that byte was read)',
        'truncated',
      );
    const isHeader =
      head.length >= 4 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8 && head[3] === 4;
    if (!isHeader) {
      if (head.length < 4 && head.every((b, i) => b === [0x1f, 0x8b, 8, 4][i]))
        throw torn('torn block header');
      throw new RecordingError(
        pos,
        pos === 0
          ? 'not an iommuscope capture: it does not start with a BGZF block (gzip 1f 8b 08 04); ' +
              'open a file written by `iommuscope watch --record` or the dashboard Record button'
          : `corrupt data at byte ${pos}: expected a BGZF block header (1f 8b 08 04) after the block before it`,
        'corrupt',
      );
    }
    if (head.length < HEADER_BYTES) throw torn('torn block header');
    if (head.readUInt16LE(10) !== 6 || head[12] !== 0x42 || head[13] !== 0x43) {
      throw new RecordingError(
        pos,
        `corrupt BGZF block at byte ${pos}: no 'BC' size subfield (a plain gzip file, or damaged)`,
        'corrupt',
      );
    }
    const size = head.readUInt16LE(16) + 1;
    if (size < HEADER_BYTES + FOOTER_BYTES + 2) {
      throw new RecordingError(
        pos,
        `corrupt BGZF block at byte ${pos}: size ${size} is too small`,
        'corrupt',
      );
    }
    const whole = src.read(pos, size);
    if (whole.length < size) throw torn(`torn block (needs ${size} bytes, has ${whole.length})`);
    const expectCrc = whole.readUInt32LE(size - 8);
    const expectLen = whole.readUInt32LE(size - 4);
    let data: Buffer;
    try {
      data = inflateRawSync(whole.subarray(HEADER_BYTES, size - FOOTER_BYTES));
    } catch (err) {
      throw new RecordingError(
        pos,
        `corrupt BGZF block at byte ${pos}: deflate data does not decompress (${err instanceof Error ? err.message : String(err)})`,
        'corrupt',
      );
    }
    if (data.length !== expectLen || crc32(data) >>> 0 !== expectCrc) {
      throw new RecordingError(
        pos,
        `corrupt BGZF block at byte ${pos}: CRC32 or length mismatch (the block's bytes were damaged)`,
        'corrupt',
      );
    }
    yield { offset: pos, size, data };
    pos += size;
  }
}
