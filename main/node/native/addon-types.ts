// The shape of the native addon (native/build/Release/iommuscope.node).
// This file is the one description of the JS/C++ boundary: the C++ side
// (native/src) implements exactly this, and the core only talks to it here.
//
// Errors: every function throws a NativeError (an Error with `code` set to the
// errno name, e.g. 'ENOENT', 'EACCES', 'EINVAL', plus `errno` and `syscall`,
// e.g. 'open /dev/iommu' or 'ioctl IOMMU_HWPT_ALLOC') on failure. Argument
// errors throw a TypeError with code 'EARG'.

export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

/**
 * IOMMU_GET_HW_INFO result. `data` is the type-specific blob (VT-d: cap/ecap;
 * decoders in main/common/hw-info). `dataLen` is the length the kernel
 * reported (it may exceed what we keep, 256 bytes, on a future kernel).
 */
export interface HwInfo {
  dataType: number;
  dataLen: number;
  maxPasidLog2: number;
  capabilities: bigint;
  data: ArrayBuffer;
}

/** IOMMU_VIOMMU_ALLOC arguments (7.3+). */
export interface ViommuAllocArgs {
  devId: number;
  /** A nesting-parent HWPT (HWPT_ALLOC with NEST_PARENT). */
  hwptId: number;
  /** IOMMU_VIOMMU_TYPE_*: 1 ARM SMMUv3, 2 Tegra241 CMDQV, 0xdeadbeef selftest. */
  type: number;
  /** Driver data, in/out (selftest: struct iommu_viommu_selftest). */
  data?: ArrayBuffer;
}

/** IOMMU_HW_QUEUE_ALLOC arguments (7.3+). */
export interface HwQueueAllocArgs {
  viommuId: number;
  type: number;
  index: number;
  /** Base of the queue memory in the nesting parent's IOVA space (must be mapped). */
  iova: bigint;
  length: bigint;
}

export interface IovaRange {
  start: bigint;
  last: bigint;
}

export interface HwptAllocArgs {
  devId: number;
  ptId: number;
  flags: number; // IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_FAULT_ID_VALID ...
  dataType?: number; // IOMMU_HWPT_DATA_*, 0xdead for the selftest
  data?: ArrayBuffer; // type-specific data, e.g. struct iommu_hwpt_selftest
  faultId?: number;
}

export interface MockDomain {
  stdevId: number;
  hwptId: number;
  idevId: number;
}

/** Fields the native matcher reads from a group's records (main/common/filter/fields.ts). */
export type NativeMatchField = 'dev' | 'pasid' | 'grpid' | 'cookie' | 'addr' | 'pages' | 'perm';

/**
 * One step of a postfix program over a stack of booleans (at most 64 deep;
 * the program must leave exactly one). Compiled from the filter language by
 * main/node/native/compile-match.ts. A group's facts: dev, pasid (absent
 * without PASID_VALID), grpid and cookie from its first record; perm the
 * union of its records' permissions; pages the number of records; addr one
 * value per record.
 */
export type NativeMatchOp =
  | { op: 'true' }
  /** Pop two, push their conjunction / disjunction. */
  | { op: 'and' }
  | { op: 'or' }
  /** Pop one, push its negation. */
  | { op: 'not' }
  /** Push: the group has a PASID. */
  | { op: 'present'; field: 'pasid' }
  /**
   * Push: some value of `field` (any record's, for addr) lies in one of the
   * inclusive ranges; with `all` (addr only): every record's does. An absent
   * pasid lies in none. Ranges are [lo, hi] with lo <= hi.
   */
  | { op: 'in'; field: NativeMatchField; ranges: [bigint, bigint][]; all?: boolean }
  /** Push: (perm & mask) === want. */
  | { op: 'bits'; mask: number; want: number };

export interface NativeMatch {
  ops: NativeMatchOp[];
}

/** One automatic-answer rule, evaluated natively in order; first match wins. */
export interface NativeRule {
  match: NativeMatch;
  action: NativeAction;
}

export type NativeAction =
  | { kind: 'hold' }
  | { kind: 'success' }
  | { kind: 'invalid' }
  | { kind: 'delay'; ns: number; code: 0 | 1 }
  | { kind: 'map' };

export interface NativePolicy {
  rules: NativeRule[];
  /** Used when no rule matches. */
  fallback: NativeAction;
}

/** Who answered a group. */
export const AnsweredBy = {
  User: 0,
  Policy: 1,
  Drain: 2,
  Kernel: 3, // detach/close answered it INVALID on the kernel side
} as const;
export type AnsweredBy = (typeof AnsweredBy)[keyof typeof AnsweredBy];

/**
 * A group's identity: the sequence number the native reader gives every
 * group it reads, unique for the life of the process across all queues and
 * sessions (1, 2, 3 ... never reused; exact in a double up to 2^53). Kernel
 * cookies are data, never identities: the kernel reuses the lowest free one.
 */
export type GroupSeq = number;

/**
 * One flush of a fault queue, delivered to JS as a single call (no per-fault
 * callbacks). All arrays are fresh and owned by JS.
 *
 * Exactness: every group read is in `read` exactly once, and every group in
 * `read` later appears in `answered` exactly once (same or a later batch).
 * Neither list is ever capped or sampled. Only the raw records of groups
 * answered automatically may be left out of `records` when one flush holds
 * more than the per-flush record cap (counted in `overflow`); records of
 * groups left pending are always delivered.
 */
export interface FaultBatch {
  /** The queue's id (NativeFaultQueue.id). */
  queue: number;
  /** Groups read since the last flush, in read order. */
  read: {
    group: Float64Array; // GroupSeq
    cookie: Uint32Array;
    /** Index of the group's first record in `records`; 0xffffffff when its records were left out. */
    first: Uint32Array;
    pages: Uint32Array; // records in the group
    readNs: Float64Array; // CLOCK_MONOTONIC ns when read() returned the group
  };
  /**
   * Raw 40-byte struct iommu_hwpt_pgfault records of the groups in `read`,
   * found by `read.first`/`read.pages`. In read order, except that a group
   * whose automatic answer the kernel refused gets its records appended
   * then, if they had been left out.
   */
  records: ArrayBuffer;
  /** Groups answered since the last flush (by policy, user, drain or kernel). */
  answered: {
    group: Float64Array; // GroupSeq
    cookie: Uint32Array; // the cookie written (or answered by the kernel)
    codes: Uint8Array; // 0 success, 1 invalid
    by: Uint8Array; // AnsweredBy
    rule: Int16Array; // index of the matching policy rule; -1 fallback or not a policy
    latencyNs: Float64Array; // from the read that returned the group to the answer
  };
  /**
   * Write, map and read failures since the last flush (at most 1024 per
   * flush; totals.errors counts all). An answer refused with EINVAL was for a
   * cookie the kernel no longer knows (it answered the group INVALID itself):
   * the group is recorded as answered by the kernel. Any other refusal leaves
   * its group pending. Answers refused in respond() are returned by it, not
   * listed here.
   */
  errors: {
    /** The group concerned; null for a read failure. */
    group: GroupSeq | null;
    cookie: number | null;
    code: string;
    errno: number;
    op: string; // 'read', 'write' or 'map'
    message: string;
  }[];
  /** Records of automatically answered groups left out of `records` this flush. */
  overflow: number;
  /** Totals since the queue started, exact. */
  totals: QueueTotals;
}

export interface QueueTotals {
  faults: number; // page requests read
  groups: number; // groups read
  answered: number; // = byUser + byPolicy + byDrain + byKernel = success + invalid
  success: number;
  invalid: number;
  byUser: number;
  byPolicy: number;
  byDrain: number;
  byKernel: number;
  pending: number; // groups read and not yet answered
  errors: number;
  overflow: number; // records left out of batches (their groups are still in read/answered)
  malformed: number; // records with unknown flag/perm bits, a reserved word or cookie 0 (still answered)
  reads: number; // read() calls that returned data
}

/** Why an answer was refused; nothing was written for it. */
export interface AnswerFailure {
  group: GroupSeq;
  /** The group's cookie, when the group is (or was recently) known. */
  cookie: number | null;
  /**
   * 'ESTALE' not pending (answered, or never read); 'EINVAL' the kernel no
   * longer knew the cookie (the group is now recorded as answered by the
   * kernel); any other errno: the kernel refused it and the group stays pending.
   */
  code: string;
  errno: number;
  /** Names the group, who answered it and when (for ESTALE), or the kernel's errno. */
  message: string;
  /** For ESTALE on a group answered recently: who answered it, with which code, and when. */
  answeredBy?: AnsweredBy;
  answeredCode?: 0 | 1;
  answeredAtNs?: number;
}

export interface RespondResult {
  /** Groups whose answer the kernel accepted. */
  ok: GroupSeq[];
  failed: AnswerFailure[];
}

export interface PendingGroup {
  group: GroupSeq;
  cookie: number;
  devId: number;
  pasid: number; // 0xffffffff when PASID_VALID is not set
  grpid: number;
  readNs: number;
  /** The group's records, 40 bytes each, as read. */
  records: ArrayBuffer;
}

/** Injection, natively paced. For sim: generated records; for mock: TRIGGER_IOPF. */
/** Checked natively (native/src/inject_spec.cc); a bad field throws EARG naming its range. */
export interface InjectSpec {
  count: number; // total page requests, 1..2^52
  rate: number; // per second: 0 = as fast as the credit allows, else 1e-3..1e8
  pasidMin: number; // 0..0xfffff (0 = no PASID), pasidMin <= pasidMax
  pasidMax: number;
  devices: number; // sim: simulated devices, dev ids 1..N (1..65536); mock: 1
  groupPages: number; // sim: pages per group, 1..2048; mock: 1
  perm: number; // IOMMU_PGFAULT_PERM_* bits (0..0xf)
  addr: bigint; // first address, page-aligned; each request one page after the last
  /**
   * Bench-only (bench/faults.ts): keep each request's trigger time in a ring
   * of this many slots, read back with injectTimes(). 0 or absent: off.
   * At most 2^24.
   */
  captureTimes?: number;
}

export interface InjectProgress {
  injected: number;
  failed: number;
  done: boolean;
  lastError?: string;
}

/**
 * FLUSH_PACING: a queue hands JS its next batch `flushIntervalMs` after JS
 * returned from the last one, or, when longer, ten times as long as that batch
 * took the JS thread (conversion and callback), at most 100 ms (or the
 * interval, when larger). A JS thread slow with batches (a loaded machine) then
 * spends about a tenth of its time on them (more once one takes it over 10 ms,
 * as the wait stops at 100 ms) and leaves the CPU to the native reader that
 * automatic answers come from.
 * The cost: held groups reach JS (and so user answers) up to that much later,
 * and the per-flush caps (jsBufferRecords, jsBufferEvents) apply to the larger
 * batches. Pending groups are always delivered.
 */
export type FaultQueueOptions =
  | {
      kind: 'kernel';
      /** The fault FD from IOMMU_FAULT_QUEUE_ALLOC. The queue takes ownership. */
      faultFd: number;
      /** iommufd and IOAS used by the 'map' action; omit to disable it. */
      iommufd?: number;
      ioasId?: number;
      /** For mock injection (TRIGGER_IOPF) on the selftest device. */
      mockDevId?: number;
      /** Per-flush cap on records of automatically answered groups (see FaultBatch.overflow). */
      jsBufferRecords?: number;
      /** Minimum ms between flushes to JS (coalescing); see FLUSH_PACING. Default 10. */
      flushIntervalMs?: number;
      /**
       * For tests: the cap on the read buffer, which starts at 256 records
       * (or the cap, when smaller) and doubles, clamped to the cap, each time
       * read() says the first group does not fit (EINVAL). A group larger than the cap is one
       * EMSGSIZE read error, then reading stops. A multiple of 40 (one
       * record) in 40..10485760; default 10485760 (2^18 records, more than
       * any PRI group).
       */
      maxReadBytes?: number;
    }
  | {
      kind: 'sim';
      jsBufferRecords?: number;
      /** As for kind 'kernel'. */
      flushIntervalMs?: number;
      /**
       * PRI credit: the simulated devices stall while this many groups are
       * queued or read-and-unanswered. 0..2^24; default (and 0): 512.
       */
      outstandingLimit?: number;
      /** For tests: the read buffer's cap, as for kind 'kernel'. */
      maxReadBytes?: number;
    };

/**
 * A fault queue read on a native thread. The same engine serves the kernel
 * fault FD and the simulator, which behaves exactly like the kernel's fault FD.
 * The queue owns all fault state (pending, answered, totals); everything in
 * JS is a projection of its batches.
 */
export interface NativeFaultQueue {
  /** Unique per process (1, 2, ...); carried by every batch. */
  readonly id: number;
  /**
   * Start reading; onBatch is called at most once per flush interval. Like an
   * unref'd timer, a started queue does not by itself keep the process alive.
   */
  start(onBatch: (batch: FaultBatch) => void): void;
  setPolicy(policy: NativePolicy): void;
  /**
   * Answer groups by sequence number. A group not pending (answered, or
   * never read from this queue) is refused with ESTALE and nothing is written.
   */
  respond(groups: GroupSeq[] | Float64Array, code: 0 | 1): RespondResult;
  /**
   * Answer every pending group with `code`, or with `groups` only those of
   * them still pending (others skipped, not errors). Recorded as
   * AnsweredBy.Drain; returns how many were answered.
   */
  drain(code: 0 | 1, groups?: GroupSeq[] | Float64Array): number;
  /** Pending groups, oldest first. */
  pending(): PendingGroup[];
  totals(): QueueTotals;
  inject(spec: InjectSpec): void;
  injectProgress(): InjectProgress;
  totals(): QueueTotals;
  inject(spec: InjectSpec): void;
  injectProgress(): InjectProgress;
  /**
   * Bench-only: the trigger times of the last inject() with captureTimes
   * (empty otherwise). Slot ((addr - spec.addr) / 4096) % captureTimes holds
   * the CLOCK_MONOTONIC ns read just before the request at `addr` was
   * triggered (mock: just before its TRIGGER_IOPF ioctl; sim: before the
   * group whose first page it is was queued), or 0 when not yet triggered.
   * With FaultBatch.read.readNs + answered.latencyNs (the time the answer's
   * write() returned) it gives trigger-to-answer latency per request.
   */
  injectTimes(): Float64Array;
  stopInject(): void;
  /**
   * sim only: detach the simulated domain; pending groups are answered
   * INVALID as the kernel does on detach (reported with AnsweredBy.Kernel).
   */
  simDetach(): number;
  /**
   * sim only, for tests: make the simulated kernel refuse the next `count`
   * answers with EINVAL, as the kernel does for a cookie it no longer knows
   * (it answered that group INVALID itself): the queue records such a group
   * as answered by the kernel.
   */
  simRefuseAnswers(count: number): void;
  /**
   * kernel only: call right after detaching or replacing the fault-reporting
   * HWPT. The kernel has answered every pending group INVALID; they are
   * recorded as answered by the kernel so nothing answers them twice.
   */
  kernelDetached(): number;
  /** Stop the thread and close the fd. Does not answer anything: drain first. */
  close(): void;
  readonly closed: boolean;
}

/**
 * A read-only kernel event queue on the same native engine as the fault
 * queue. 'veventq': the FD from IOMMU_VEVENTQ_ALLOC (kernel 6.15+), whose
 * read() returns whole vEVENTs: a struct iommufd_vevent_header
 * { u32 flags; u32 sequence } followed by `dataBytes` of type-specific data
 * (fixed per vEVENTQ type: 32 for IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 16 for
 * TEGRA241_CMDQV, 4 for the selftest), or a header alone with
 * IOMMU_VEVENTQ_FLAG_LOST_EVENTS.
 */
export interface EventQueueOptions {
  kind: 'veventq';
  /** The vEVENTQ FD. The queue takes ownership (and makes it non-blocking). */
  fd: number;
  /** Bytes of data after each header (0..65536). */
  dataBytes: number;
  /** Per-flush cap on delivered vEVENTs with data (see VeventBatch.overflow). Default 65536. */
  jsBufferEvents?: number;
  /** Minimum ms between flushes to JS (coalescing); see FLUSH_PACING. Default 10. */
  flushIntervalMs?: number;
}

/** IOMMU_VEVENTQ_FLAG_LOST_EVENTS in VeventBatch.events.flags. */
export const VEVENTQ_FLAG_LOST_EVENTS = 1;

/**
 * One flush of a vEVENTQ, as a single call. Events are in read order; a
 * LOST_EVENTS marker is an event with that flag and length 0, and is always
 * delivered. Sequences run 0..2^31-1 and wrap to 0; the queue expects the
 * kernel's first sequence, 0. A gap of k between adjacent sequences means k
 * events were lost; a marker stands for at least one lost event (its own
 * sequence), the next event's gap tells the rest.
 */
export interface VeventBatch {
  /** The queue's id (NativeEventQueue.id; one counter with fault queue ids). */
  queue: number;
  events: {
    sequence: Uint32Array;
    flags: Uint32Array;
    /** Where the event's data starts in `data`, and its length (dataBytes, or 0 for a marker). */
    offset: Uint32Array;
    length: Uint32Array;
    /** Events lost just before this one (sequence gap, plus 1 for a marker). */
    lostBefore: Uint32Array;
    readNs: Float64Array;
  };
  /** Every delivered event's data, concatenated. */
  data: ArrayBuffer;
  /** Events lost (per the sequence numbers) among those read since the last flush. */
  lost: number;
  /** Events with data read but left out of this batch (more than jsBufferEvents in one flush). */
  overflow: number;
  /** Read failures (op 'read'), e.g. the fd hung up or a vEVENT larger than 16 MiB. */
  errors: { code: string; errno: number; op: string; message: string }[];
  totals: VeventTotals;
}

export interface VeventTotals {
  events: number; // vEVENTs with data read
  lostMarkers: number; // LOST_EVENTS headers read
  lost: number; // events lost, from sequence gaps and markers
  overflow: number; // events read but left out of batches
  malformed: number; // unknown flag bits (still delivered), or a torn event at the end of a read (dropped)
  reads: number;
  bytes: number;
  errors: number;
}

export interface NativeEventQueue {
  /** Unique per process, from the same counter as NativeFaultQueue.id. */
  readonly id: number;
  /** Start reading; like an unref'd timer it does not keep the process alive. */
  start(onBatch: (batch: VeventBatch) => void): void;
  totals(): VeventTotals;
  /** Stop the thread and close the fd. */
  close(): void;
  readonly closed: boolean;
}

/** sysfs reading: raw contents only; decoding lives in TypeScript (main/node/topology). */
export interface SysfsError {
  /** errno name, e.g. 'ENOENT', 'EACCES', 'ENOTDIR'. */
  code: string;
  errno: number;
  /** e.g. 'open class/iommu/dmar0/intel-iommu/cap: Permission denied'. */
  message: string;
}

/** One batch of reads; every path is relative to the root given with it. */
export interface SysfsRequest {
  /** Text files (attributes), read whole (up to maxBytes). */
  files?: string[];
  /** Binary files such as PCI `config`, read whole (up to maxBytes). */
  binary?: string[];
  /** Directories: their entry names, without '.' and '..', in readdir order. */
  dirs?: string[];
  /** Symbolic links: the raw link target (usually relative to the link's folder). */
  links?: string[];
  /** Per-file read cap in bytes; default 65536. */
  maxBytes?: number;
}

/** Results parallel to the request arrays: a value, or a SysfsError for that entry. */
export interface SysfsResult {
  files: (string | SysfsError)[];
  binary: (ArrayBuffer | SysfsError)[];
  dirs: (string[] | SysfsError)[];
  links: (string | SysfsError)[];
}

export interface NativeAddon {
  // --- iommufd ---
  openIommufd(path: string): number;
  close(fd: number): void;
  /** inDataType: request that info type (7.3's IOMMU_HW_INFO_FLAG_INPUT_TYPE; 6.12: EOPNOTSUPP). */
  getHwInfo(iommufd: number, devId: number, inDataType?: number): HwInfo;
  ioasAlloc(iommufd: number): number;
  /** Map anonymous memory owned by the addon; returns the IOVA used. */
  ioasMapAnon(
    iommufd: number,
    ioasId: number,
    length: bigint,
    iova: bigint | null,
    flags: number,
  ): bigint;
  ioasUnmap(iommufd: number, ioasId: number, iova: bigint, length: bigint): bigint;
  ioasIovaRanges(iommufd: number, ioasId: number): { ranges: IovaRange[]; alignment: bigint };
  hwptAlloc(iommufd: number, args: HwptAllocArgs): number;
  faultQueueAlloc(iommufd: number): { faultId: number; faultFd: number };
  destroy(iommufd: number, id: number): void;

  // --- VFIO device cdev ---
  openVfioDevice(path: string): number;
  vfioBindIommufd(deviceFd: number, iommufd: number): number; // returns dev id
  /** pasid: uses the PASID flag; kernels before it (6.12) fail with EINVAL. */
  vfioAttachPt(deviceFd: number, ptId: number, pasid?: number): number;
  vfioDetachPt(deviceFd: number, pasid?: number): void;

  // --- iommufd selftest (CONFIG_IOMMUFD_TEST) ---
  /** True when IOMMU_TEST_CMD exists on this kernel (probed, not assumed). */
  testCmdAvailable(iommufd: number): boolean;
  mockDomain(iommufd: number, ioasId: number): MockDomain;
  mockDomainReplace(iommufd: number, stdevId: number, ptId: number): number;
  triggerIopf(
    iommufd: number,
    devId: number,
    pasid: number,
    grpid: number,
    perm: number,
    addr: bigint,
  ): void;

  /**
   * Whether the selftest has `op` (TRIGGER_VEVENT or a PASID_* op): probed
   * with id 0, which those ops reject before doing anything. 6.12 lacks them.
   */
  testOpSupported(iommufd: number, op: number): boolean;
  /** MOCK_DOMAIN_FLAGS: a mock device with MOCK_FLAGS_DEVICE_* (PASID: 7.3). */
  mockDomainFlags(iommufd: number, ioasId: number, devFlags: number): MockDomain;
  /** PASID_ATTACH of the mock device (stdev id); returns the pt id the kernel used. */
  mockPasidAttach(iommufd: number, stdevId: number, pasid: number, ptId: number): number;
  mockPasidReplace(iommufd: number, stdevId: number, pasid: number, ptId: number): number;
  mockPasidDetach(iommufd: number, stdevId: number, pasid: number): void;
  /** PASID_CHECK_HWPT: true when `pasid` is attached to hwptId (0: detached). */
  mockPasidCheckHwpt(iommufd: number, stdevId: number, pasid: number, hwptId: number): boolean;
  /** TRIGGER_VEVENT: one selftest vEVENT (virt_id = the vDEVICE's) on the device's vIOMMU. */
  triggerVevent(iommufd: number, devId: number): void;

  // --- vIOMMU, vDEVICE, vEVENTQ, HW queue (7.3+; 6.12's iommufd: ENOTTY) ---
  viommuAlloc(iommufd: number, args: ViommuAllocArgs): { viommuId: number; data: ArrayBuffer };
  /** virtId: vSID (SMMUv3), vDeviceID (AMD), vRID (VT-d); returns the vDEVICE id. */
  vdeviceAlloc(iommufd: number, viommuId: number, devId: number, virtId: bigint): number;
  /** depth 1..2^19; the fd is read as records of struct iommufd_vevent_header + data. */
  veventqAlloc(
    iommufd: number,
    viommuId: number,
    type: number,
    depth: number,
  ): { veventqId: number; veventqFd: number };
  hwQueueAlloc(iommufd: number, args: HwQueueAllocArgs): number;
  /** One read(fd, maxBytes); the bytes returned (length 0 when the queue is empty). */
  rawRead(fd: number, maxBytes: number): ArrayBuffer;
  /** poll(fd, POLLIN, timeoutMs): true when readable. */
  pollIn(fd: number, timeoutMs: number): boolean;

  // --- fault queues ---
  createFaultQueue(options: FaultQueueOptions): NativeFaultQueue;
  createEventQueue(options: EventQueueOptions): NativeEventQueue;
  /**
   * The policy matcher on its own, for tests and tools: evaluates `match`
   * over consecutive groups of `records` (40 bytes each; `pages[i]` records
   * in group i) exactly as a queue's policy does. Returns 1/0 per group.
   */
  matchGroups(match: NativeMatch, records: ArrayBuffer, pages: Uint32Array): Uint8Array;

  // --- sysfs ---
  /**
   * Read many sysfs files, folders and links in one call. Nothing throws per
   * entry: each result is its value or a SysfsError. Throws only when `root`
   * itself cannot be opened (NativeError) or on bad arguments (EARG).
   */
  readSysfs(root: string, request: SysfsRequest): SysfsResult;
  /** The same, with the I/O on a worker thread (keeps the event loop free). */
  readSysfsAsync(root: string, request: SysfsRequest): Promise<SysfsResult>;
}
