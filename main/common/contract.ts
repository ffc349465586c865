// The one contract between the core (Electron main process or `iommuscope
// serve`) and the renderer. Both transports (Electron IPC through the
// preload bridge, WebSocket in browser mode) carry exactly these requests and
// events; no channel name is written anywhere else. The receiving side
// validates every message against these schemas.
import {
  array,
  literal,
  nullable,
  number,
  object,
  optional,
  string,
  tagged,
  trusted,
  u32,
  type Infer,
  type Schema,
} from './schema';
import type { HostTopology, TopologyUpdate } from './host-topology';
import type { FaultSourceKind, IommufdObjects } from './iommufd-objects';
import { MAX_STATS_ROWS, type FaultStats } from './fault-stats';
import type { ActivityBatch, ActivitySnapshot } from './activity/stream';
import { RECORDING_NAME, recordingRequests } from './recording-contract';
import { veventEvents, veventRequests } from './vevent-contract';
import { replayRequests, type ReplayState } from './replay-contract';

/** Largest message either side accepts, in bytes of JSON. */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** Frames are coalesced to at most this many per second. */
export const MAX_FRAMES_PER_SECOND = 30;
/** Most rows one faults.query may return. */
export const MAX_QUERY_ROWS = 1000;

const code = literal(0, 1);
const hex = string({ max: 18, pattern: /^0x[0-9a-fA-F]{1,16}$/ });

export const answeredByNames = ['user', 'policy', 'drain', 'kernel'] as const;
export type AnsweredByName = (typeof answeredByNames)[number];

/**
 * A group's identity on the wire: its 64-bit sequence number (given by the
 * native reader, unique for the life of the core process, never reused) in
 * decimal. Cookies are data: the kernel reuses them as soon as a group is
 * answered, so nothing is ever addressed by cookie.
 */
export type GroupId = string;
export const groupId = string({ max: 20, pattern: /^(0|[1-9][0-9]{0,19})$/ });

/** Sort order of group ids (= read order): numeric, on the decimal strings. */
export function compareGroupIds(a: GroupId, b: GroupId): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Filter shared by the fault table, bulk answers and drains. `filter` is
 * display-filter text (main/common/filter, README "Filters and rules"); the
 * other fields are the older structured form. Every given part must hold. A
 * group is matched as a whole: its permissions are the union of its pages',
 * and an address range matches when any of its pages is in it.
 */
export const faultFilter = object({
  filter: optional(string({ max: 4096 })),
  devId: optional(u32),
  pasid: optional(u32),
  /** 'r', 'w', 'x', 'p' letters; a group matches when its pages together request all of them. */
  perm: optional(string({ max: 4, pattern: /^[rwxp]*$/ })),
  addrMin: optional(hex),
  addrMax: optional(hex),
  state: optional(literal('pending', 'success', 'invalid')),
  /** Read at or after this many ms since the session started (a range brushed on a chart). */
  readMsMin: optional(number({ min: 0 })),
  /** Read at or before this many ms since the session started. */
  readMsMax: optional(number({ min: 0 })),
});
export type FaultFilter = Infer<typeof faultFilter>;

/** Columns the fault table can be sorted by (FaultRow fields; time = readMs). */
export const sortKeys = [
  'group',
  'time',
  'dev',
  'pasid',
  'grpid',
  'perm',
  'addr',
  'pages',
  'state',
  'by',
  'latency',
  'cookie',
] as const;
export type SortKey = (typeof sortKeys)[number];

/**
 * Sort order of faults.query: by `key`, ties by group (ascending, so the
 * order is stable). Rows without the value (no PASID; by and latency while
 * pending) come last in either direction.
 */
export const faultSort = object({
  key: literal(...sortKeys),
  dir: literal('asc', 'desc'),
});
export type FaultSort = Infer<typeof faultSort>;

/** One row of the fault table: a page request group. */
export interface FaultRow {
  /** The group's identity (decimal sequence number); rows are in group order. */
  group: GroupId;
  /** The kernel's cookie when read (reused by the kernel after the answer). */
  cookie: number;
  devId: number;
  /** null when the request carried no PASID. */
  pasid: number | null;
  grpid: number;
  /** Union of the pages' IOMMU_PGFAULT_PERM_* bits. */
  perm: number;
  /** First page's address, hex. */
  addr: string;
  pages: number;
  /** Milliseconds since the session started. */
  readMs: number;
  state: 'pending' | 'success' | 'invalid';
  /** null while pending. */
  by: AnsweredByName | null;
  /** Index of the policy rule that answered; null for the fallback or when not a policy. */
  rule: number | null;
  latencyUs: number | null;
}

/** Every decoded field of every page of one group, plus the raw records. */
export interface FaultDetail {
  row: FaultRow;
  pages: {
    flags: number;
    flagNames: string[];
    devId: number;
    pasid: number;
    grpid: number;
    perm: number;
    permNames: string[];
    addr: string;
    length: number;
    cookie: number;
    /** The 40 bytes as read, hex. */
    raw: string;
  }[];
}

export interface RespondOutcome {
  /** Groups whose answer was written. */
  ok: GroupId[];
  /**
   * Groups not answered, each with why: ESTALE when the group is not pending
   * (the message names who answered it and when); EINVAL when the kernel no
   * longer knew the cookie (it had answered the group INVALID itself, and
   * the group is recorded as answered by the kernel); any other errno: the
   * kernel refused the answer and the group stays pending.
   */
  failed: {
    group: GroupId;
    cookie: number | null;
    code: string;
    message: string;
    answeredBy?: AnsweredByName;
  }[];
}

export interface SessionState {
  /** null when no session is open. */
  source: FaultSourceKind | null;
  /** replay: the recording being played (a file name in the core's recordings folder). */
  file: string | null;
  device: string | null;
  pasid: number | null;
  policy: string;
  drainCode: 0 | 1;
  canInject: boolean;
  startedAt: number | null;
  /** Why the last open failed or the session ended, shown as a banner. */
  lastError: string | null;
}

export interface AppInfo {
  version: string;
  mode: 'electron' | 'browser';
  /** null when /dev/iommu is usable; otherwise why not, with the fix. */
  iommuProblem: string | null;
  mockAvailable: boolean;
  vfioDevices: string[];
}

export interface Totals {
  faults: number;
  groups: number;
  answered: number;
  success: number;
  invalid: number;
  pending: number;
  errors: number;
  /** Records left out of batches (their groups are still counted and answered). */
  overflow: number;
  malformed: number;
}

export interface RateSeries {
  /** 'dev:1' or 'pasid:1:7' */
  key: string;
  label: string;
  /** Page requests per second, one point per bucket, oldest first. */
  points: number[];
}

/** rates.history's answer: `points` of each series are bucketMs wide, the last ending at tEndMs. */
export interface RateHistoryView {
  bucketMs: number;
  tEndMs: number;
  byDevice: RateSeries[];
  byPasid: RateSeries[];
}

/**
 * One coalesced update. Counters move every frame; `rates` and `latency`
 * come only when the chart is due (about twice a second), so renderer work
 * does not grow with the fault rate.
 */
export interface Frame {
  seq: number;
  /** Milliseconds since the session started. */
  t: number;
  totals: Totals;
  /** Page requests per second over the last second. */
  faultRate: number;
  /** Exact native counters: answeredByUser + …Policy + …Drain + …Kernel = totals.answered. */
  answeredByUser: number;
  answeredByPolicy: number;
  answeredByDrain: number;
  answeredByKernel: number;
  /** Groups in the fault log (every pending group plus the newest answered ones). */
  logSize: number;
  /** Answered rows evicted from the log because it was full (never a pending one). */
  logDropped: number;
  /** Groups read whose records never reached the log (answered natively, counted in totals.overflow). */
  logSkipped: number;
  /** Newest rows (at most 20), for a live-follow table without a query. */
  newest: FaultRow[];
  injection: { injected: number; failed: number; done: boolean; lastError: string | null } | null;
  rates?: { bucketMs: number; byDevice: RateSeries[]; byPasid: RateSeries[] };
  /** Automatic-answer latency histogram: counts per bucket of edgesUs. */
  latency?: { edgesUs: number[]; counts: number[]; p50Us: number; p99Us: number };
  /**
   * The newest errors (at most MAX_RECENT_ERRORS, oldest first), kept by the
   * core until dismissed (`errors.dismiss`); every frame carries them all.
   */
  errors: {
    /** 1, 2, 3 … in the order they happened (for errors.dismiss). */
    id: number;
    at: number;
    group: GroupId | null;
    cookie: number | null;
    code: string;
    message: string;
  }[];
  /** The replay timeline's state while the session is a replay, else null. */
  replay: ReplayState | null;
}

// --- requests: renderer -> core -------------------------------------------

export const requests = {
  'app.info': { params: object({}), result: trusted<AppInfo>('AppInfo') },
  'host.snapshot': { params: object({}), result: trusted<HostTopology>('HostTopology') },
  'session.state': { params: object({}), result: trusted<SessionState>('SessionState') },
  'session.open': {
    params: tagged('source', {
      sim: object({ source: literal('sim'), policy: optional(string({ max: 65536 })) }),
      mock: object({ source: literal('mock'), policy: optional(string({ max: 65536 })) }),
      iommufd: object({
        source: literal('iommufd'),
        device: string({ max: 256, pattern: /^\/dev\/vfio\/devices\/vfio\d+$/ }),
        pasid: optional(number({ int: true, min: 1, max: 0xfffff })),
        policy: optional(string({ max: 65536 })),
      }),
      /** A recording in the core's recordings folder, by file name (no folders). */
      replay: object({
        source: literal('replay'),
        file: string({ max: 100, pattern: RECORDING_NAME }),
        speed: optional(number({ min: 0.01, max: 1000 })),
      }),
    }),
    result: trusted<SessionState>('SessionState'),
  },
  /** Drains (with the session's drain code) and tears down. */
  'session.close': { params: object({}), result: trusted<SessionState>('SessionState') },
  'session.setDrainCode': {
    params: object({ code }),
    result: trusted<SessionState>('SessionState'),
  },
  'topology.objects': {
    params: object({}),
    result: nullable(trusted<IommufdObjects>('IommufdObjects')),
  },
  /** `spec` uses the CLI's --policy grammar: a word or JSON rules. */
  'policy.set': {
    params: object({ spec: string({ max: 65536 }) }),
    result: trusted<SessionState>('SessionState'),
  },
  /** `spec` uses the CLI's --inject grammar. */
  'inject.start': { params: object({ spec: string({ max: 512 }) }), result: trusted<object>('ok') },
  'inject.stop': { params: object({}), result: trusted<object>('ok') },
  'faults.query': {
    params: object({
      offset: number({ int: true, min: 0 }),
      limit: number({ int: true, min: 1, max: MAX_QUERY_ROWS }),
      filter: optional(faultFilter),
      /** Default: group order, ascending. */
      sort: optional(faultSort),
      /** Also answer where this group is under the filter and sort (`at`, null when absent). */
      locate: optional(groupId),
    }),
    result: trusted<{ total: number; rows: FaultRow[]; at?: number | null }>('rows'),
  },
  /** null when the group is not (or no longer) in the fault log. */
  'faults.detail': {
    params: object({ group: groupId }),
    result: nullable(trusted<FaultDetail>('FaultDetail')),
  },
  'faults.respond': {
    params: object({ groups: array(groupId, { max: 65536 }), code }),
    result: trusted<RespondOutcome>('RespondOutcome'),
  },
  /**
   * Per device, per PASID and per (device, PASID, grpid) statistics of the
   * fault log's groups matching `filter`; each table at most MAX_STATS_ROWS
   * rows (conversations at most `maxConversations`), the most groups first.
   */
  'faults.stats': {
    params: object({
      filter: optional(faultFilter),
      maxConversations: optional(number({ int: true, min: 1, max: MAX_STATS_ROWS })),
    }),
    result: trusted<FaultStats>('FaultStats'),
  },
  /**
   * The core's rate history for the Live charts' long windows (it outlives
   * the renderer): the last `seconds` (up to 24 h) at 1 s (up to 10 min) or
   * 10 s resolution, averaged down to at most `points` points per series.
   */
  'rates.history': {
    params: object({
      seconds: number({ int: true, min: 10, max: 86_400 }),
      points: optional(number({ int: true, min: 10, max: 2000 })),
    }),
    result: trusted<RateHistoryView>('RateHistoryView'),
  },
  /** Answers every pending group, or exactly the pending groups matching `filter`. */
  'faults.drain': {
    params: object({ code, filter: optional(faultFilter) }),
    result: trusted<{ answered: number }>('drained'),
  },
  /** Forgets the recent errors up to and including id `upTo` (totals.errors still counts them). */
  'errors.dismiss': {
    params: object({ upTo: number({ int: true, min: 0, max: Number.MAX_SAFE_INTEGER }) }),
    result: trusted<object>('ok'),
  },
  /** Activity view: sources, recent decoded events and rates (enabled: false when off). */
  'activity.snapshot': {
    params: object({}),
    result: trusted<ActivitySnapshot>('ActivitySnapshot'),
  },
  /** Re-send everything a freshly loaded renderer needs (after a reload). */
  'stream.resync': { params: object({}), result: trusted<object>('ok') },
  ...recordingRequests,
  ...veventRequests,
  ...replayRequests,
} satisfies Record<string, { params: Schema<unknown>; result: Schema<unknown> }>;

export type RequestName = keyof typeof requests;
export type RequestParams<N extends RequestName> = Infer<(typeof requests)[N]['params']>;
export type RequestResult<N extends RequestName> = Infer<(typeof requests)[N]['result']>;

// --- events: core -> renderer ---------------------------------------------

const frameSchema = trusted<Frame>('Frame');

export const events = {
  frame: frameSchema,
  'host.changed': trusted<TopologyUpdate>('TopologyUpdate'),
  'session.changed': trusted<SessionState>('SessionState'),
  'topology.changed': nullable(trusted<IommufdObjects>('IommufdObjects')),
  /** Activity view: decoded host IOMMU events and rates, coalesced. */
  activity: trusted<ActivityBatch>('ActivityBatch'),
  /** Something the user should see: a failed answer, a lost device, a quit prompt. */
  notice: object({
    level: literal('info', 'warning', 'error'),
    message: string({ max: 4096 }),
    /** The group the notice is about, when there is one. */
    group: optional(groupId),
  }),
  ...veventEvents,
} satisfies Record<string, Schema<unknown>>;

export type EventName = keyof typeof events;
export type EventPayload<N extends EventName> = Infer<(typeof events)[N]>;

// --- the wire: what both transports carry -----------------------------------

export const requestEnvelope = object({
  id: number({ int: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
  method: string({ max: 64 }),
  params: optional(trusted<object>('params')),
});

export type ResponseEnvelope =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: string; message: string } };

export interface EventEnvelope {
  event: EventName;
  payload: unknown;
}

export function isRequestName(name: string): name is RequestName {
  return Object.prototype.hasOwnProperty.call(requests, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}

/** The API the renderer sees, whichever transport carries it. */
export interface CoreApi {
  request<N extends RequestName>(method: N, params: RequestParams<N>): Promise<RequestResult<N>>;
  on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void;
}
