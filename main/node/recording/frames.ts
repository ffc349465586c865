// iommuscope capture frames: the payload of each pcapng packet. Every frame
// starts with u16 type, u16 frame version (1); fault-path frames are
// fixed binary layouts (little-endian), the rare ones are UTF-8 JSON.
// FORMAT.md in this folder is the specification; this file implements it.
import type { HostTopology, TopologyChange } from '../../common/host-topology';
import { FAULT_RECORD_BYTES } from '../../common/fault-record';
import type { QueueTotals } from '../native/addon-types';

export const FrameType = {
  Header: 0x0001,
  Session: 0x0002,
  Policy: 0x0003,
  End: 0x0004,
  Note: 0x0005,
  GroupRead: 0x0010,
  Answer: 0x0011,
  BatchEnd: 0x0012,
  Error: 0x0013,
  VEvent: 0x0020,
  HostActivity: 0x0021,
  TopologySnapshot: 0x0030,
  TopologyChange: 0x0031,
} as const;

export const FRAME_VERSION = 1;
export const CAPTURE_MAGIC = 'iommuscope-capture';
export const CAPTURE_FORMAT_VERSION = 1;

/** Order of QueueTotals fields in a BatchEnd frame (f64 each). */
export const TOTALS_FIELDS = [
  'faults',
  'groups',
  'answered',
  'success',
  'invalid',
  'byUser',
  'byPolicy',
  'byDrain',
  'byKernel',
  'pending',
  'errors',
  'overflow',
  'malformed',
  'reads',
] as const satisfies readonly (keyof QueueTotals)[];

export interface HeaderFrame {
  kind: 'header';
  magic: typeof CAPTURE_MAGIC;
  formatVersion: number;
  host: string;
  kernel: string;
  tool: string;
  toolVersion: string;
  /** Wall clock at start, ISO 8601 (for people). */
  startWall: string;
  /** Date.now()-style ns since the epoch at start, decimal string (exact). */
  startWallNs: string;
  /** CLOCK_MONOTONIC ns at the same instant, decimal string (exact). */
  startMonoNs: string;
}

export interface SessionFrame {
  kind: 'session';
  monoNs: number;
  queue: number;
  source: string;
  device?: string;
  pasid?: number;
  policy?: unknown;
  /** Anything else the session wants kept (iommufd objects, inject spec ...). */
  extra?: Record<string, unknown>;
}

export interface PolicyFrame {
  kind: 'policy';
  monoNs: number;
  queue: number;
  policy: unknown;
  /** Who changed it ('cli', 'dashboard', 'rules-file' ...). */
  by?: string;
}

export interface EndFrame {
  kind: 'end';
  monoNs: number;
  reason: string;
}

export interface NoteFrame {
  kind: 'note';
  monoNs: number;
  text: string;
}

export interface GroupReadFrame {
  kind: 'read';
  /** CLOCK_MONOTONIC ns when read() returned the group. */
  monoNs: number;
  queue: number;
  group: number;
  cookie: number;
  pages: number;
  /** The group's raw records (pages × 40 bytes), or null when the batch left them out. */
  records: Uint8Array | null;
}

export interface AnswerFrame {
  kind: 'answer';
  /** Answer time: the group's read time + latency when known, else the batch's delivery time. */
  monoNs: number;
  queue: number;
  group: number;
  cookie: number;
  code: number;
  by: number;
  rule: number;
  latencyNs: number;
}

export interface BatchEndFrame {
  kind: 'batch';
  /** When the batch reached JS (the recorder's CLOCK_MONOTONIC). */
  monoNs: number;
  queue: number;
  overflow: number;
  totals: QueueTotals;
}

export interface ErrorFrame {
  kind: 'error';
  monoNs: number;
  queue: number;
  group: number | null;
  cookie: number | null;
  code: string;
  errno: number;
  op: string;
  message: string;
}

/** One vEVENTQ event (struct iommufd_vevent_header + its type-specific data). */
export interface VEventFrame {
  kind: 'vevent';
  monoNs: number;
  viommuId: number;
  veventqId: number;
  /** IOMMU_VEVENTQ_TYPE_* */
  eventType: number;
  /** iommufd_vevent_header.flags (IOMMU_VEVENTQ_FLAG_LOST_EVENTS ...). */
  headerFlags: number;
  sequence: number;
  data: Uint8Array;
}

/** Host activity (DMA faults, map/unmap, invalidations, PRQ, interrupts): open-ended JSON. */
export interface HostActivityFrame {
  kind: 'host-activity';
  monoNs: number;
  /** 'dma-fault' | 'map' | 'unmap' | 'invalidate' | 'prq' | 'interrupt' | ... */
  activity: string;
  unit?: string;
  device?: string;
  reason?: string;
  count?: number;
  detail?: Record<string, unknown>;
}

export interface TopologySnapshotFrame {
  kind: 'topology';
  monoNs: number;
  topology: HostTopology;
}

export interface TopologyChangeFrame {
  kind: 'topology-change';
  monoNs: number;
  seq: number;
  changes: TopologyChange[];
}

/** A frame type this reader does not know (written by a newer iommuscope): kept, not an error. */
export interface UnknownFrame {
  kind: 'unknown';
  monoNs: number;
  type: number;
  version: number;
  body: Uint8Array;
}

export type Frame =
  | HeaderFrame
  | SessionFrame
  | PolicyFrame
  | EndFrame
  | NoteFrame
  | GroupReadFrame
  | AnswerFrame
  | BatchEndFrame
  | ErrorFrame
  | VEventFrame
  | HostActivityFrame
  | TopologySnapshotFrame
  | TopologyChangeFrame;

export type DecodedFrame = Frame | UnknownFrame;

const jsonKinds = {
  header: FrameType.Header,
  session: FrameType.Session,
  policy: FrameType.Policy,
  end: FrameType.End,
  note: FrameType.Note,
  error: FrameType.Error,
  'host-activity': FrameType.HostActivity,
  topology: FrameType.TopologySnapshot,
  'topology-change': FrameType.TopologyChange,
} as const;
type JsonKind = keyof typeof jsonKinds;
const kindOfJsonType = new Map<number, JsonKind>(
  Object.entries(jsonKinds).map(([k, t]) => [t, k as JsonKind]),
);

function frameHead(type: number, bodyBytes: number): Buffer {
  const b = Buffer.alloc(4 + bodyBytes);
  b.writeUInt16LE(type, 0);
  b.writeUInt16LE(FRAME_VERSION, 2);
  return b;
}

/** The frame's payload bytes (what goes into a pcapng packet); its time is monoNs. */
export function encodeFrame(f: Frame): Buffer {
  switch (f.kind) {
    case 'read': {
      const rec = f.records ? f.records.length : 0;
      const b = frameHead(FrameType.GroupRead, 24 + rec);
      b.writeUInt32LE(f.queue, 4);
      b.writeDoubleLE(f.group, 8);
      b.writeUInt32LE(f.cookie, 16);
      b.writeUInt32LE(f.pages, 20);
      b.writeUInt32LE(f.records ? 0 : 1, 24); // bit 0: records left out
      if (f.records) b.set(f.records, 28);
      return b;
    }
    case 'answer': {
      const b = frameHead(FrameType.Answer, 28);
      b.writeUInt32LE(f.queue, 4);
      b.writeDoubleLE(f.group, 8);
      b.writeUInt32LE(f.cookie, 16);
      b.writeUInt8(f.code, 20);
      b.writeUInt8(f.by, 21);
      b.writeInt16LE(f.rule, 22);
      b.writeDoubleLE(f.latencyNs, 24);
      return b;
    }
    case 'batch': {
      const b = frameHead(FrameType.BatchEnd, 8 + 8 * TOTALS_FIELDS.length);
      b.writeUInt32LE(f.queue, 4);
      b.writeUInt32LE(f.overflow, 8);
      TOTALS_FIELDS.forEach((k, i) => b.writeDoubleLE(f.totals[k], 12 + 8 * i));
      return b;
    }
    case 'vevent': {
      const b = frameHead(FrameType.VEvent, 24 + f.data.length);
      b.writeUInt32LE(f.viommuId, 4);
      b.writeUInt32LE(f.veventqId, 8);
      b.writeUInt32LE(f.eventType, 12);
      b.writeUInt32LE(f.headerFlags, 16);
      b.writeUInt32LE(f.sequence, 20);
      b.writeUInt32LE(f.data.length, 24);
      b.set(f.data, 28);
      return b;
    }
    default: {
      const { kind, ...rest } = f;
      const body = Buffer.from(JSON.stringify(rest));
      const b = frameHead(jsonKinds[kind], body.length);
      body.copy(b, 4);
      return b;
    }
  }
}

/** Thrown by decodeFrame for a frame whose bytes do not fit its type. */
export class FrameDecodeError extends Error {}

function need(body: Buffer, bytes: number, what: string): void {
  if (body.length < bytes)
    throw new FrameDecodeError(`${what} frame is ${body.length} bytes, needs ${bytes}`);
}

/** Decode one frame payload; `monoNs` comes from the packet's timestamp. */
export function decodeFrame(payload: Buffer, monoNs: number): DecodedFrame {
  need(payload, 4, 'a');
  const type = payload.readUInt16LE(0);
  const version = payload.readUInt16LE(2);
  const known = Object.values(FrameType).includes(type as never);
  if (!known || version !== FRAME_VERSION) {
    return { kind: 'unknown', monoNs, type, version, body: payload.subarray(4) };
  }
  switch (type) {
    case FrameType.GroupRead: {
      need(payload, 28, 'group read');
      const pages = payload.readUInt32LE(20);
      const omitted = (payload.readUInt32LE(24) & 1) !== 0;
      const rec = omitted ? 0 : pages * FAULT_RECORD_BYTES;
      if (payload.length !== 28 + rec) {
        throw new FrameDecodeError(
          `group read frame of ${pages} page(s) is ${payload.length} bytes, expected ${28 + rec}`,
        );
      }
      return {
        kind: 'read',
        monoNs,
        queue: payload.readUInt32LE(4),
        group: payload.readDoubleLE(8),
        cookie: payload.readUInt32LE(16),
        pages,
        records: omitted ? null : new Uint8Array(payload.subarray(28)),
      };
    }
    case FrameType.Answer:
      need(payload, 32, 'answer');
      return {
        kind: 'answer',
        monoNs,
        queue: payload.readUInt32LE(4),
        group: payload.readDoubleLE(8),
        cookie: payload.readUInt32LE(16),
        code: payload.readUInt8(20),
        by: payload.readUInt8(21),
        rule: payload.readInt16LE(22),
        latencyNs: payload.readDoubleLE(24),
      };
    case FrameType.BatchEnd: {
      need(payload, 12 + 8 * TOTALS_FIELDS.length, 'batch end');
      const totals = {} as QueueTotals;
      TOTALS_FIELDS.forEach((k, i) => (totals[k] = payload.readDoubleLE(12 + 8 * i)));
      return {
        kind: 'batch',
        monoNs,
        queue: payload.readUInt32LE(4),
        overflow: payload.readUInt32LE(8),
        totals,
      };
    }
    case FrameType.VEvent: {
      need(payload, 28, 'vEVENTQ event');
      const len = payload.readUInt32LE(24);
      need(payload, 28 + len, 'vEVENTQ event');
      return {
        kind: 'vevent',
        monoNs,
        viommuId: payload.readUInt32LE(4),
        veventqId: payload.readUInt32LE(8),
        eventType: payload.readUInt32LE(12),
        headerFlags: payload.readUInt32LE(16),
        sequence: payload.readUInt32LE(20),
        data: new Uint8Array(payload.subarray(28, 28 + len)),
      };
    }
    default: {
      const kind = kindOfJsonType.get(type)!;
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload.subarray(4).toString('utf8'));
      } catch (err) {
        throw new FrameDecodeError(
          `${kind} frame is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
        );
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new FrameDecodeError(`${kind} frame is not a JSON object`);
      const obj = { kind, ...(parsed as object) } as Frame;
      if (kind !== 'header') (obj as { monoNs: number }).monoNs = monoNs;
      return obj;
    }
  }
}
