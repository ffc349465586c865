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
import type { ActivityBatch, ActivitySnapshot } from './activity/stream';

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

/** Filter shared by the fault table, bulk answers and drains. */
export const faultFilter = object({
  devId: optional(u32),
  pasid: optional(u32),
  /** 'r', 'w', 'x', 'p' letters; a row matches when it requests all of them. */
  perm: optional(string({ max: 4, pattern: /^[rwxp]*$/ })),
  addrMin: optional(hex),
  addrMax: optional(hex),
  state: optional(literal('pending', 'success', 'invalid', 'answered')),
});
export type FaultFilter = Infer<typeof faultFilter>;

/** One row of the fault table: a page request group. */
export interface FaultRow {
  /** Position in the session's fault log (0 = first group read). */
  index: number;
  cookie: number;
  devId: number;
  /** null when the request carried no PASID. */
  pasid: number | null;
  grpid: number;
  perm: number;
  /** First page's address, hex. */
  addr: string;
  pages: number;
  /** Milliseconds since the session started. */
  readMs: number;
  /**
   * 'answered': answered natively, but the answer's code and answerer never
   * reached the dashboard (answered-list overflow); `by` is then null.
   */
  state: 'pending' | 'success' | 'invalid' | 'answered';
  by: AnsweredByName | null;
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
  ok: number[];
  failed: { cookie: number; code: string; message: string }[];
}

export interface SessionState {
  /** null when no session is open. */
  source: FaultSourceKind | null;
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
  answeredByUser: number;
  answeredByPolicy: number;
  answeredByDrain: number;
  answeredByKernel: number;
  /** Groups answered whose code and answerer were lost (rows in state 'answered'). */
  answeredUnknown: number;
  /** Groups in the fault log; the table pages through it with faults.query. */
  logSize: number;
  /** Groups dropped from the log because it was full (they were still answered). */
  logDropped: number;
  /** Newest rows (at most 20), for a live-follow table without a query. */
  newest: FaultRow[];
  injection: { injected: number; failed: number; done: boolean; lastError: string | null } | null;
  rates?: { bucketMs: number; byDevice: RateSeries[]; byPasid: RateSeries[] };
  /** Automatic-answer latency histogram: counts per bucket of edgesUs. */
  latency?: { edgesUs: number[]; counts: number[]; p50Us: number; p99Us: number };
  errors: { at: number; cookie: number; code: string; message: string }[];
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
    }),
    result: trusted<{ total: number; rows: FaultRow[] }>('rows'),
  },
  'faults.detail': {
    params: object({ cookie: u32, index: optional(number({ int: true, min: 0 })) }),
    result: nullable(trusted<FaultDetail>('FaultDetail')),
  },
  'faults.respond': {
    params: object({ cookies: array(u32, { max: 65536 }), code }),
    result: trusted<RespondOutcome>('RespondOutcome'),
  },
  /** Answers every pending group, or those matching `filter`. */
  'faults.drain': {
    params: object({ code, filter: optional(faultFilter) }),
    result: trusted<{ answered: number }>('drained'),
  },
  /** Activity view: sources, recent decoded events and rates (enabled: false when off). */
  'activity.snapshot': {
    params: object({}),
    result: trusted<ActivitySnapshot>('ActivitySnapshot'),
  },
  /** Re-send everything a freshly loaded renderer needs (after a reload). */
  'stream.resync': { params: object({}), result: trusted<object>('ok') },
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
  }),
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
