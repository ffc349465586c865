// The pcapng blocks a capture uses (little-endian, one section): a Section
// Header Block, one Interface Description Block with link type LINKTYPE_USER0
// and nanosecond timestamps, then one Enhanced Packet Block per iommuscope
// frame. Parsing is streaming: feed() decompressed bytes as they come.
import { RecordingError } from './recording-error';

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_IDB = 0x00000001;
export const PCAPNG_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** tcpdump.org's first user-defined link type: the payload is an iommuscope frame. */
export const LINKTYPE_USER0 = 147;
/** Blocks above this are treated as corruption (a topology snapshot is far smaller). */
export const MAX_PCAPNG_BLOCK = 16 << 20;

const pad4 = (n: number): number => (n + 3) & ~3;

function optionsBytes(options: [number, Uint8Array][]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of options) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(code, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, Buffer.from(value), Buffer.alloc(pad4(value.length) - value.length));
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  out.writeUInt32LE(total, total - 4);
  return out;
}

/** SHB with shb_hardware (2), shb_os (3) and shb_userappl (4). */
export function sectionHeader(info: { hardware: string; os: string; application: string }): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4); // major
  fixed.writeUInt16LE(0, 6); // minor
  fixed.writeBigInt64LE(-1n, 8); // section length unknown (streaming)
  const opts = optionsBytes([
    [2, Buffer.from(info.hardware)],
    [3, Buffer.from(info.os)],
    [4, Buffer.from(info.application)],
  ]);
  return block(PCAPNG_SHB, Buffer.concat([fixed, opts]));
}

/** IDB: LINKTYPE_USER0, no snap length, if_name (2), if_description (3), if_tsresol (9) = ns. */
export function interfaceDescription(name: string, description: string): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(LINKTYPE_USER0, 0);
  fixed.writeUInt32LE(0, 4); // snaplen: none
  const opts = optionsBytes([
    [2, Buffer.from(name)],
    [3, Buffer.from(description)],
    [9, Uint8Array.of(9)],
  ]);
  return block(PCAPNG_IDB, Buffer.concat([fixed, opts]));
}

/** EPB on interface 0 with a nanosecond timestamp (since the epoch) and `data` as the packet. */
export function enhancedPacket(tsNs: bigint, data: Uint8Array): Buffer {
  const total = 32 + pad4(data.length);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(PCAPNG_EPB, 0);
  out.writeUInt32LE(total, 4);
  out.writeUInt32LE(0, 8); // interface id
  out.writeUInt32LE(Number(tsNs >> 32n), 12);
  out.writeUInt32LE(Number(tsNs & 0xffffffffn), 16);
  out.writeUInt32LE(data.length, 20); // captured
  out.writeUInt32LE(data.length, 24); // original
  out.set(data, 28);
  out.writeUInt32LE(total, total - 4);
  return out;
}

function notPcapng(fileOffset: number): RecordingError {
  return new RecordingError(
    fileOffset,
    `not an iommuscope capture: the gzip data at byte ${fileOffset} does not start with a ` +
      'little-endian pcapng section header',
    'corrupt',
  );
}

/** One pcapng packet as parsed: the frame bytes and where they came from. */
export interface PcapngPacket {
  tsNs: bigint;
  data: Buffer;
  /** File offset of the BGZF block where the packet's pcapng block starts. */
  fileOffset: number;
}

/**
 * Streaming pcapng parser. feed() takes consecutive decompressed bytes with
 * the file offset of the BGZF block they came from; packets come out through
 * `onPacket`. Errors are RecordingErrors naming that file offset.
 */
export class PcapngParser {
  private carry: Buffer = Buffer.alloc(0);
  /** File offset of the block holding carry[0]. */
  private carryOffset = 0;
  private streamPos = 0;
  private seenSection = false;
  private interfaces = 0;

  constructor(private readonly onPacket: (p: PcapngPacket) => void) {}

  feed(chunk: Buffer, fileOffset: number): void {
    if (this.carry.length === 0) this.carryOffset = fileOffset;
    this.carry = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let at = 0;
    while (this.carry.length - at >= 12) {
      const where = at === 0 ? this.carryOffset : fileOffset;
      const type = this.carry.readUInt32LE(at);
      const total = this.carry.readUInt32LE(at + 4);
      if (!this.seenSection && type !== PCAPNG_SHB) throw notPcapng(where);
      if (total < 12 || total % 4 !== 0 || total > MAX_PCAPNG_BLOCK) {
        throw this.corrupt(where, `pcapng block length ${total} is invalid`);
      }
      if (this.carry.length - at < total) break;
      const body = this.carry.subarray(at + 8, at + total - 4);
      if (this.carry.readUInt32LE(at + total - 4) !== total) {
        throw this.corrupt(where, 'pcapng block trailing length differs from its leading length');
      }
      this.onBlock(type, body, where);
      at += total;
      this.streamPos += total;
    }
    this.carry = this.carry.subarray(at);
    if (at > 0) this.carryOffset = fileOffset;
  }

  /** Call at end of input: a partial block left over is a truncation. */
  end(fileSize: number): void {
    if (this.carry.length > 0) {
      throw new RecordingError(
        this.carryOffset,
        `the file ends (byte ${fileSize}) inside a pcapng block (stream byte ${this.streamPos}, ` +
          `in the BGZF block at byte ${this.carryOffset}): the recording stopped mid-write`,
        'truncated',
      );
    }
    if (!this.seenSection) {
      throw new RecordingError(
        0,
        `the file ends at byte ${fileSize} before its pcapng section header: nothing was recorded`,
        'truncated',
      );
    }
  }

  private corrupt(fileOffset: number, why: string): RecordingError {
    return new RecordingError(
      fileOffset,
      `corrupt capture at stream byte ${this.streamPos} (BGZF block at file byte ${fileOffset}): ${why}`,
      'corrupt',
    );
  }

  private onBlock(type: number, body: Buffer, fileOffset: number): void {
    if (!this.seenSection) {
      if (type !== PCAPNG_SHB || body.length < 16 || body.readUInt32LE(0) !== BYTE_ORDER_MAGIC) {
        throw notPcapng(fileOffset);
      }
      if (body.readUInt16LE(4) !== 1) {
        throw new RecordingError(
          fileOffset,
          `pcapng major version ${body.readUInt16LE(4)} is not supported (1 is)`,
          'unsupported',
        );
      }
      this.seenSection = true;
      return;
    }
    if (type === PCAPNG_SHB)
      throw this.corrupt(fileOffset, 'a second section header (captures have one section)');
    if (type === PCAPNG_IDB) {
      if (body.length < 8 || body.readUInt16LE(0) !== LINKTYPE_USER0) {
        throw this.corrupt(fileOffset, 'an interface with a link type other than LINKTYPE_USER0');
      }
      this.interfaces++;
      return;
    }
    if (type !== PCAPNG_EPB) return; // other blocks (comments, statistics) are ignored
    if (body.length < 20) throw this.corrupt(fileOffset, 'enhanced packet block too short');
    const iface = body.readUInt32LE(0);
    if (iface >= this.interfaces)
      throw this.corrupt(fileOffset, `packet on undeclared interface ${iface}`);
    const tsNs = (BigInt(body.readUInt32LE(4)) << 32n) | BigInt(body.readUInt32LE(8));
    const caplen = body.readUInt32LE(12);
    if (20 + caplen > body.length)
      throw this.corrupt(fileOffset, `packet length ${caplen} exceeds its block`);
    this.onPacket({ tsNs, data: body.subarray(20, 20 + caplen), fileOffset });
  }
}
