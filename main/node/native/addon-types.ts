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

/** One automatic-answer rule, evaluated natively in order; first match wins. */
export interface NativeRule {
  devId?: number;
  pasidMin?: number;
  pasidMax?: number;
  addrMin?: bigint;
  addrMax?: bigint; // inclusive
  /** Match when every bit in permAll is requested. */
  permAll?: number;
  /** Match when no bit in permNone is requested. */
  permNone?: number;
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
 * One flush of the fault queue, delivered to JS as a single call (no per-fault
 * callbacks). All arrays are fresh and owned by JS.
 */
export interface FaultBatch {
  /** n * 40 bytes of raw struct iommu_hwpt_pgfault, in read order. */
  records: ArrayBuffer;
  /** Per record: CLOCK_MONOTONIC nanoseconds when read() returned it, as a double. */
  readNs: Float64Array;
  /** Groups answered since the last flush (by policy, user, drain or kernel). */
  answered: {
    cookies: Uint32Array;
    codes: Uint8Array; // 0 success, 1 invalid
    by: Uint8Array; // AnsweredBy
    rule: Int16Array; // index of the matching rule, -1 fallback or not a policy
    latencyNs: Float64Array; // from read of the group's last page to write()
  };
  /** Write or map failures since the last flush; a failed group stays pending. */
  errors: { cookie: number; code: string; errno: number; op: string; message: string }[];
  /** Records read but not delivered to JS because the JS-side buffer was full. */
  overflow: number;
  /**
   * Answered entries left out of `answered` because more than
   * max(jsBufferRecords, 65536) piled up before this flush (totals stay exact).
   * Always set by the native queue; optional for batches made in TypeScript.
   */
  answeredOverflow?: number;
  /** Totals since the queue started. */
  totals: QueueTotals;
}

export interface QueueTotals {
  faults: number; // page requests read
  groups: number; // groups complete (LAST_PAGE seen)
  answered: number;
  success: number;
  invalid: number;
  pending: number; // groups read and not yet answered
  errors: number;
  overflow: number;
  malformed: number; // records rejected by the decoder (bad size, reserved bits)
  reads: number; // read() calls that returned data
}

export interface RespondResult {
  /** Cookies the kernel accepted. */
  ok: number[];
  /** Cookies refused, each with the reason; unknown cookies give code 'ESTALE'. */
  failed: { cookie: number; code: string; errno: number; message: string }[];
}

export interface PendingGroup {
  cookie: number;
  devId: number;
  pasid: number; // 0xffffffff when PASID_VALID is not set
  grpid: number;
  readNs: number;
  /** The group's records, 40 bytes each. */
  records: ArrayBuffer;
}

/** Injection, natively paced. For sim: generated records; for mock: TRIGGER_IOPF. */
export interface InjectSpec {
  count: number; // total page requests
  rate: number; // per second, 0 = as fast as possible
  pasidMin: number;
  pasidMax: number;
  devices: number; // sim: number of simulated devices (dev ids 1..N)
  groupPages: number; // sim: pages per group (mock: always 1)
  perm: number; // IOMMU_PGFAULT_PERM_* bits
  addr: bigint; // first address; each request one page after the last
}

export interface InjectProgress {
  injected: number;
  failed: number;
  done: boolean;
  lastError?: string;
}

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
      /** Max records buffered for JS before counting overflow. */
      jsBufferRecords?: number;
      /** Minimum ms between flushes to JS (coalescing). Default 10. */
      flushIntervalMs?: number;
    }
  | {
      kind: 'sim';
      jsBufferRecords?: number;
      flushIntervalMs?: number;
      /** Max groups outstanding on the simulated device before it stalls (PRI credit). */
      outstandingLimit?: number;
    };

/**
 * A fault queue read on a native thread. The same reader serves the kernel
 * fault FD and the simulator, which emulates the kernel's fault FD semantics.
 */
export interface NativeFaultQueue {
  /**
   * Start reading; onBatch is called at most once per flush interval. Like an
   * unref'd timer, a started queue does not by itself keep the process alive.
   */
  start(onBatch: (batch: FaultBatch) => void): void;
  setPolicy(policy: NativePolicy): void;
  respond(cookies: number[] | Uint32Array, code: 0 | 1): RespondResult;
  /**
   * Answer every pending group with `code`, or with `cookies` only those of
   * them still pending (unknown, answered or repeated cookies are skipped,
   * not errors). Recorded as AnsweredBy.Drain; returns how many were answered.
   */
  drain(code: 0 | 1, cookies?: number[] | Uint32Array): number;
  pending(): PendingGroup[];
  totals(): QueueTotals;
  inject(spec: InjectSpec): void;
  injectProgress(): InjectProgress;
  stopInject(): void;
  /**
   * sim only: detach the simulated domain; pending groups are answered
   * INVALID as the kernel does on detach (reported with AnsweredBy.Kernel).
   */
  simDetach(): number;
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
