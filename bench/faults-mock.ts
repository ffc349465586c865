// Inside the test VM: one run of the pipeline on the selftest mock device.
// A kernel fault queue (FaultQueue on the native engine, policy `success`,
// default 10 ms flushes) fed by the addon's native injector (TRIGGER_IOPF,
// paced at `rate`, 0 = as fast as possible), each request at its own address.
//
// Latency per request, the same way as native/bench/c_fault_loop.c:
//   trigger: injectTimes()[i], CLOCK_MONOTONIC just before request i's TRIGGER_IOPF;
//   answer:  read.readNs + answered.latencyNs of its group, which is
//            CLOCK_MONOTONIC just after the write() carrying its answer returned
//            (readNs is taken just after the read() that returned the group,
//            latencyNs runs from there to just after that write()).
// seconds: first trigger to the last answer's write, as for the C loop.
import type { FaultBatch, NativeAddon } from '../main/node/native/addon-types';
import { percentile } from './faults-stats';

export const MOCK_BASE_IOVA = 0x2000000; // inside the mock aperture, as in the C loop
const NEST_PARENT = 1;
const FAULT_ID_VALID = 4;
const HWPT_DATA_SELFTEST = 0xdead;
const IOTLB_DEFAULT = 0xbadbeef;
const RECORDS_LEFT_OUT = 0xffffffff;

export interface Measured {
  faults: number;
  rate: number;
  seconds: number;
  faultsPerSec: number;
  p50Us: number;
  p99Us: number;
  /** Trigger to just after the read() that returned the request (where the rest of p50 goes). */
  readP50Us: number;
  readP99Us: number;
}

/** IOAS, mock domain, nest parent, fault queue, nested IOPF HWPT, replace: as the C loop. */
function openMockQueue(a: NativeAddon) {
  const fd = a.openIommufd('/dev/iommu');
  const ioas = a.ioasAlloc(fd);
  const md = a.mockDomain(fd, ioas);
  const parent = a.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: NEST_PARENT });
  const fq = a.faultQueueAlloc(fd);
  const data = new ArrayBuffer(4);
  new DataView(data).setUint32(0, IOTLB_DEFAULT, true);
  const nested = a.hwptAlloc(fd, {
    devId: md.idevId,
    ptId: parent,
    flags: FAULT_ID_VALID,
    dataType: HWPT_DATA_SELFTEST,
    data,
    faultId: fq.faultId,
  });
  a.mockDomainReplace(fd, md.stdevId, nested);
  const q = a.createFaultQueue({
    kind: 'kernel',
    faultFd: fq.faultFd,
    iommufd: fd,
    ioasId: ioas,
    mockDevId: md.idevId,
  });
  return { fd, q };
}

/** Trigger-to-answer latency of every request, from the batches and the trigger ring. */
export function matchLatencies(batches: FaultBatch[], triggers: Float64Array, base: number) {
  const count = triggers.length;
  const lat = new Float64Array(count).fill(NaN);
  const toRead = new Float64Array(count).fill(NaN);
  const reqOf = new Map<number, number>();
  const readNsOf = new Map<number, number>();
  let lastAnswerNs = 0;
  for (const b of batches) {
    const v = new DataView(b.records);
    const r = b.read;
    for (let i = 0; i < r.group.length; i++) {
      const first = r.first[i]!;
      if (first === RECORDS_LEFT_OUT) continue; // counted as unmatched below
      const off = first * 40 + 24;
      const addr = v.getUint32(off, true) + v.getUint32(off + 4, true) * 2 ** 32;
      reqOf.set(r.group[i]!, (addr - base) / 4096);
      readNsOf.set(r.group[i]!, r.readNs[i]!);
    }
  }
  for (const b of batches) {
    const ans = b.answered;
    for (let j = 0; j < ans.group.length; j++) {
      const g = ans.group[j]!;
      const req = reqOf.get(g);
      const readNs = readNsOf.get(g);
      if (req === undefined || readNs === undefined || !(req >= 0 && req < count)) continue;
      const t = readNs + ans.latencyNs[j]!;
      lat[req] = t - triggers[req]!;
      toRead[req] = readNs - triggers[req]!;
      if (t > lastAnswerNs) lastAnswerNs = t;
    }
  }
  const matched = lat.filter((x) => Number.isFinite(x));
  const reads = toRead.filter((x) => Number.isFinite(x)).sort();
  return { sorted: matched.sort(), reads, unmatched: count - matched.length, lastAnswerNs };
}

/** One pipeline run of `count` requests at `rate`; throws on a failed or unclean run. */
export async function pipelineRun(
  a: NativeAddon,
  count: number,
  rate: number,
  timeoutMs: number,
): Promise<Measured> {
  const { fd, q } = openMockQueue(a);
  try {
    q.setPolicy({ rules: [], fallback: { kind: 'success' } });
    const batches: FaultBatch[] = [];
    let answered = 0;
    q.start((b) => {
      batches.push(b); // nothing else on the JS thread while measuring
      answered = b.totals.answered;
    });
    q.inject({
      count,
      rate,
      pasidMin: 0,
      pasidMax: 0,
      devices: 1,
      groupPages: 1,
      perm: 1,
      addr: BigInt(MOCK_BASE_IOVA),
      captureTimes: count,
    });
    const deadline = Date.now() + timeoutMs;
    // The queue does not keep the process alive: this poll does, and checks for failure.
    // Every 100 ms: the run's end comes from the answers' write times, not from this
    // poll, and a faster one takes CPU from the reader and the injector (the C loop has none).
    await new Promise<void>((resolve, reject) => {
      const tick = setInterval(() => {
        const p = q.injectProgress();
        let why = '';
        if (p.done && p.failed > 0) why = `injection failed: ${p.lastError ?? 'unknown'}`;
        else if (Date.now() > deadline)
          why = `timed out after ${timeoutMs} ms: ${answered} of ${count} answered`;
        if (answered >= count || why) {
          clearInterval(tick);
          if (why) reject(new Error(why));
          else resolve();
        }
      }, 100);
    });
    const totals = q.totals();
    if (totals.pending !== 0 || totals.errors !== 0 || totals.answered !== count)
      throw new Error(`unclean pipeline run: ${JSON.stringify(totals)}`);
    const triggers = q.injectTimes();
    const m = matchLatencies(batches, triggers, MOCK_BASE_IOVA);
    if (m.unmatched > 0) throw new Error(`${m.unmatched} of ${count} requests not matched`);
    const seconds = (m.lastAnswerNs - triggers[0]!) / 1e9;
    return {
      faults: count,
      rate,
      seconds,
      faultsPerSec: count / seconds,
      p50Us: percentile(m.sorted, 50) / 1e3,
      p99Us: percentile(m.sorted, 99) / 1e3,
      readP50Us: percentile(m.reads, 50) / 1e3,
      readP99Us: percentile(m.reads, 99) / 1e3,
    };
  } finally {
    q.close();
    a.close(fd);
  }
}
