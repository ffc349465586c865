// Guest side of test/vm/native-mock.test.ts: the real kernel fault queue fed
// by the iommufd selftest mock device (TRIGGER_IOPF), first through raw
// read()/write() on the fault FD (the kernel's own rules), then through the
// addon's native FaultQueue.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { FaultBatch, NativeFaultQueue } from '../../main/node/native/addon-types';
import { addon, errnoOf, facts, finish, step, waitFor } from './guest-steps';
import { parseFilter } from '../../main/common/filter/parser';
import { compileNativeMatch } from '../../main/node/native/compile-match';

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const nativeMatch = (filter: string) =>
  compileNativeMatch(parseFilter(filter, { readTimeOnly: true }));

const NEST_PARENT = 1;
const FAULT_ID_VALID = 4;
const LAST_PAGE = 2;
const PERM_RW = 3;
const APERTURE = 0x2000000n; // inside the mock domain's IOVA aperture (16 MiB .. 2 GiB)

interface Rec {
  flags: number;
  devId: number;
  pasid: number;
  grpid: number;
  perm: number;
  reserved: number;
  addr: bigint;
  length: number;
  cookie: number;
}

function decode(buf: ArrayBufferLike, i = 0): Rec {
  const v = new DataView(buf, i * 40, 40);
  return {
    flags: v.getUint32(0, true),
    devId: v.getUint32(4, true),
    pasid: v.getUint32(8, true),
    grpid: v.getUint32(12, true),
    perm: v.getUint32(16, true),
    reserved: v.getUint32(20, true),
    addr: v.getBigUint64(24, true),
    length: v.getUint32(32, true),
    cookie: v.getUint32(36, true),
  };
}

function responses(pairs: [number, number][]): Buffer {
  const b = Buffer.alloc(pairs.length * 8);
  pairs.forEach(([cookie, code], i) => {
    b.writeUInt32LE(cookie, i * 8);
    b.writeUInt32LE(code, i * 8 + 4);
  });
  return b;
}

function rawErr(fn: () => unknown): string {
  try {
    return String(fn());
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'NO_CODE';
  }
}

async function main() {
  const a = addon();
  const fd = a.openIommufd('/dev/iommu');
  let ioas = 0;
  let md = { stdevId: 0, hwptId: 0, idevId: 0 };
  let faultFd = -1;
  let nested = 0;

  await step('testCmdAvailable probes the selftest as present', () => {
    assert.equal(a.testCmdAvailable(fd), true);
  });
  await step('set up IOAS, mock domain, nest parent, fault queue, nested IOPF HWPT', () => {
    ioas = a.ioasAlloc(fd);
    md = a.mockDomain(fd, ioas);
    const parent = a.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: NEST_PARENT });
    const fq = a.faultQueueAlloc(fd);
    faultFd = fq.faultFd;
    const data = new ArrayBuffer(4);
    new DataView(data).setUint32(0, 0xbadbeef, true);
    nested = a.hwptAlloc(fd, {
      devId: md.idevId,
      ptId: parent,
      flags: FAULT_ID_VALID,
      dataType: 0xdead,
      data,
      faultId: fq.faultId,
    });
    assert.equal(a.mockDomainReplace(fd, md.stdevId, nested), nested);
  });
  await step('IOPF HWPT without a fault id is refused by the addon (EARG)', () => {
    assert.throws(
      () => a.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: FAULT_ID_VALID }),
      (e: NodeJS.ErrnoException) => e.code === 'EARG' && e instanceof TypeError,
    );
  });

  // --- the kernel's own rules, on the raw fault FD ---
  await step('raw: an empty queue reads 0 bytes without blocking', () => {
    assert.equal(fs.readSync(faultFd, Buffer.alloc(400)), 0);
  });
  await step('raw: read/write sizes not a multiple of 40/8 give ESPIPE', () => {
    facts.readOddSize = rawErr(() => fs.readSync(faultFd, Buffer.alloc(39)));
    facts.writeOddSize = rawErr(() => fs.writeSync(faultFd, Buffer.alloc(7)));
    assert.equal(facts.readOddSize, 'ESPIPE');
    assert.equal(facts.writeOddSize, 'ESPIPE');
  });
  let raw: Rec[] = [];
  await step('raw: TRIGGER_IOPF gives one LAST_PAGE record with our fields', () => {
    a.triggerIopf(fd, md.idevId, 0, 7, PERM_RW, APERTURE);
    a.triggerIopf(fd, md.idevId, 5, 8, 1, APERTURE + 0x1000n);
    a.triggerIopf(fd, md.idevId, 0, 9, 1, APERTURE + 0x2000n);
    facts.readZeroBytesWithGroupsQueued = fs.readSync(faultFd, Buffer.alloc(0));
    const buf = Buffer.alloc(40 * 8);
    const n = fs.readSync(faultFd, buf);
    assert.equal(n, 120);
    raw = [0, 1, 2].map((i) => decode(buf.buffer.slice(buf.byteOffset, buf.byteOffset + n), i));
    facts.rawRecords = raw.map((r) => ({ ...r, addr: `0x${r.addr.toString(16)}` }));
    assert.equal(raw[0]?.devId, md.idevId);
    assert.equal(raw[0]?.flags, LAST_PAGE); // the mock never sets PASID_VALID
    assert.equal(raw[0]?.grpid, 7);
    assert.equal(raw[0]?.perm, PERM_RW);
    assert.equal(raw[0]?.addr, APERTURE);
    assert.equal(raw[1]?.pasid, 5);
    assert.equal(raw[0]?.reserved, 0);
  });
  await step('raw: bad code and unknown cookie give EINVAL', () => {
    const c = raw[0]?.cookie ?? 0;
    facts.writeBadCode = rawErr(() => fs.writeSync(faultFd, responses([[c, 2]])));
    facts.writeUnknownCookie = rawErr(() => fs.writeSync(faultFd, responses([[987654, 0]])));
    assert.equal(facts.writeBadCode, 'EINVAL');
    assert.equal(facts.writeUnknownCookie, 'EINVAL');
  });
  await step('raw: a batch with a bad cookie in the middle is accepted up to it', () => {
    const [r0, r1, r2] = raw;
    const n = fs.writeSync(
      faultFd,
      responses([
        [r0?.cookie ?? 0, 0],
        [987654, 0],
        [r1?.cookie ?? 0, 0],
      ]),
    );
    facts.partialWriteBytes = n;
    assert.equal(n, 8);
    assert.equal(
      fs.writeSync(
        faultFd,
        responses([
          [r1?.cookie ?? 0, 0],
          [r2?.cookie ?? 0, 1],
        ]),
      ),
      16,
    );
    facts.cookieReusedAfterAnswer = (() => {
      a.triggerIopf(fd, md.idevId, 0, 10, 1, APERTURE);
      const b = Buffer.alloc(40);
      assert.equal(fs.readSync(faultFd, b), 40);
      const r = decode(b.buffer.slice(b.byteOffset, b.byteOffset + 40));
      fs.writeSync(faultFd, responses([[r.cookie, 0]]));
      return r.cookie === raw[0]?.cookie;
    })();
  });

  // --- the native queue on the same FD ---
  const q: NativeFaultQueue = a.createFaultQueue({
    kind: 'kernel',
    faultFd,
    iommufd: fd,
    ioasId: ioas,
    mockDevId: md.idevId,
    flushIntervalMs: 5,
  });
  const batches: FaultBatch[] = [];
  type Answer = {
    group: number;
    cookie: number;
    code: number;
    by: number;
    rule: number;
    latencyNs: number;
  };
  // By group sequence number, and in order. The kernel hands cookies out again.
  const answered = new Map<number, Answer>();
  const answerLog: Answer[] = [];
  const readGroups: number[] = [];
  const errors: FaultBatch['errors'] = [];
  let kernelAnswered = 0;
  q.start((b) => {
    batches.push(b);
    readGroups.push(...b.read.group);
    b.answered.group.forEach((g, i) => {
      const a: Answer = {
        group: g,
        cookie: b.answered.cookie[i] ?? -1,
        code: b.answered.codes[i] ?? -1,
        by: b.answered.by[i] ?? -1,
        rule: b.answered.rule[i] ?? -2,
        latencyNs: b.answered.latencyNs[i] ?? -1,
      };
      assert.equal(answered.has(g), false, `group ${g} answered twice`);
      answered.set(g, a);
      answerLog.push(a);
    });
    errors.push(...b.errors);
    kernelAnswered += b.answered.by.filter((by) => by === 3).length;
  });
  const base = () => ({ rate: 0, pasidMin: 0, pasidMax: 0, devices: 1, groupPages: 1, perm: 1 });
  const injectAndWait = async (count: number, addr: bigint) => {
    const before = q.totals().groups;
    q.inject({ ...base(), count, addr });
    await waitFor(`${count} groups read`, () => q.totals().groups >= before + count);
    assert.equal(q.injectProgress().failed, 0, q.injectProgress().lastError);
  };

  await step('queue: held groups are pending; user answers success and invalid', async () => {
    q.setPolicy({ rules: [], fallback: { kind: 'hold' } });
    await injectAndWait(20, APERTURE);
    const pend = q.pending();
    assert.equal(pend.length, 20);
    assert.equal(pend[0]?.devId, md.idevId);
    assert.equal(pend[0]?.pasid, 0xffffffff);
    const groups = pend.map((p) => p.group);
    const r1 = q.respond(groups.slice(0, 10), 0);
    const r2 = q.respond(new Float64Array(groups.slice(10)), 1);
    assert.equal(r1.ok.length + r2.ok.length, 20, JSON.stringify([r1.failed, r2.failed]));
    assert.equal(q.pending().length, 0);
    await waitFor('answers flushed', () => groups.every((g) => answered.get(g)?.by === 0));
  });
  await step('queue: a never-read group is ESTALE; a bad code is EARG', () => {
    const never = 1e12;
    const r = q.respond([never], 0);
    assert.equal(r.failed[0]?.code, 'ESTALE');
    assert.match(r.failed[0]?.message ?? '', /never read/);
    assert.throws(
      () => q.respond([1], 2 as 0),
      (e: NodeJS.ErrnoException) => e.code === 'EARG',
    );
  });
  await step(
    'queue: B gets answered A’s cookie from the kernel; respond(A) is ESTALE, B stays pending',
    async () => {
      await injectAndWait(1, APERTURE);
      const A = q.pending()[0];
      assert.ok(A);
      assert.deepEqual(q.respond([A.group], 0).ok, [A.group]);
      await injectAndWait(1, APERTURE + 0x1000n);
      const B = q.pending()[0];
      assert.ok(B);
      facts.nativeCookieReused = B.cookie === A.cookie;
      assert.equal(B.cookie, A.cookie, 'the kernel reuses the lowest free cookie');
      const r = q.respond([A.group], 1);
      assert.deepEqual(r.ok, []);
      facts.staleAnswer = r.failed[0]?.code;
      assert.match(r.failed[0]?.message ?? '', /already answered success by the user/);
      assert.deepEqual(
        q.pending().map((p) => p.group),
        [B.group],
      );
      assert.deepEqual(q.respond([B.group], 0).ok, [B.group]);
    },
  );
  let refusedGroup = 0;
  await step('queue: partial batch: kernel refuses one cookie, the rest are answered', async () => {
    await injectAndWait(3, APERTURE);
    const pend = q.pending();
    const gone = pend[1];
    assert.ok(gone);
    // Answer it behind the queue's back so only the kernel knows it is gone.
    fs.writeSync(faultFd, responses([[gone.cookie, 0]]));
    const others = pend.filter((p) => p !== gone).map((p) => p.group);
    const kernelBefore = q.totals().byKernel;
    refusedGroup = gone.group;
    const r = q.respond([others[0] ?? 0, gone.group, others[1] ?? 0], 0);
    facts.kernelRefusedCookie = r.failed[0]?.code;
    assert.deepEqual(r.ok, others);
    assert.equal(r.failed.length, 1);
    assert.deepEqual([r.failed[0]?.group, r.failed[0]?.cookie], [gone.group, gone.cookie]);
    assert.equal(r.failed[0]?.code, 'EINVAL');
    assert.match(
      r.failed[0]?.message ?? '',
      new RegExp(`group ${gone.group} \\(cookie ${gone.cookie}\\)`),
    );
    assert.match(r.failed[0]?.message ?? '', /recorded as answered by the kernel/);
    // The kernel no longer knows the cookie: it answered the group itself, so it is recorded once as the kernel's.
    assert.equal(q.pending().length, 0, 'the refused group is not left pending');
    assert.equal(q.totals().byKernel, kernelBefore + 1);
  });
  await step(
    'queue: a later answer for the kernel-answered group is ESTALE naming the kernel',
    async () => {
      const again = q.respond([refusedGroup], 1);
      assert.deepEqual(again.ok, []);
      assert.equal(again.failed[0]?.code, 'ESTALE');
      assert.match(again.failed[0]?.message ?? '', /kernel/);
      assert.equal(q.drain(1), 0, 'nothing is left for the drain');
    },
  );
  await step(
    'queue: policy rules answer natively (success, invalid by address, delay)',
    async () => {
      q.setPolicy({
        rules: [
          {
            match: nativeMatch(
              `addr in {${hex(APERTURE + 0x10000n)}..${hex(APERTURE + 0x13fffn)}}`,
            ),
            action: { kind: 'invalid' },
          },
          {
            match: nativeMatch(`addr >= ${hex(APERTURE + 0x100000n)}`),
            action: { kind: 'delay', ns: 3_000_000, code: 0 },
          },
        ],
        fallback: { kind: 'success' },
      });
      const from = answerLog.length;
      const policyAnswers = () => answerLog.slice(from).filter((v) => v.by === 1);
      q.inject({ ...base(), count: 40, addr: APERTURE });
      await waitFor('first injection done', () => q.injectProgress().done);
      q.inject({ ...base(), count: 4, addr: APERTURE + 0x100000n });
      // Wait for the answers to reach JS, not just the native totals.
      await waitFor('all 44 answers delivered', () => policyAnswers().length >= 44);
      const byRule = [0, 0, 0];
      for (const v of policyAnswers()) byRule[v.rule + 1] = (byRule[v.rule + 1] ?? 0) + 1;
      facts.policyByRule = byRule;
      assert.deepEqual(byRule, [36, 4, 4], 'fallback 36, rule 0 (invalid) 4, rule 1 (delay) 4');
      const delayed = policyAnswers().filter((v) => v.rule === 1);
      assert.ok(delayed.every((v) => v.latencyNs >= 3_000_000 && v.code === 0));
    },
  );
  await step('queue: map action maps a page at the fault address and answers success', async () => {
    q.setPolicy({ rules: [], fallback: { kind: 'map' } });
    const addr = APERTURE + 0x200000n;
    const before = q.totals().success;
    q.inject({ ...base(), count: 2, addr, perm: PERM_RW });
    await waitFor('2 mapped', () => q.totals().success >= before + 2);
    // The pages are mapped now: unmapping them reports their length.
    assert.equal(a.ioasUnmap(fd, ioas, addr, 0x2000n), 0x2000n);
  });
  await step('queue: map failure outside the aperture answers INVALID and reports', async () => {
    const before = q.totals().invalid;
    const errBefore = errors.length;
    q.inject({ ...base(), count: 1, addr: 0x1000n });
    await waitFor('answered invalid', () => q.totals().invalid > before);
    await waitFor('map error flushed', () => errors.length > errBefore);
    facts.mapOutsideAperture = errors[errBefore]?.code;
    assert.equal(errors[errBefore]?.op, 'map');
  });
  await step('queue: paced injection (rate) and stopInject', async () => {
    q.setPolicy({ rules: [], fallback: { kind: 'success' } });
    const t0 = Date.now();
    q.inject({ ...base(), count: 50, rate: 500, addr: APERTURE });
    await waitFor('paced done', () => q.injectProgress().done);
    const ms = Date.now() - t0;
    facts.pacedMs = ms;
    assert.ok(ms >= 80, `50 at 500/s took ${ms} ms`);
    q.inject({ ...base(), count: 1_000_000, rate: 100, addr: APERTURE });
    q.stopInject();
    assert.ok(q.injectProgress().done);
    assert.ok(q.injectProgress().injected < 5);
  });
  await step(
    'queue: replacing the domain answers pending groups INVALID in the kernel',
    async () => {
      q.setPolicy({ rules: [], fallback: { kind: 'hold' } });
      await injectAndWait(5, APERTURE);
      const pend = q.pending().map((p) => p.group);
      a.mockDomainReplace(fd, md.stdevId, ioas);
      const r = q.respond(pend, 0);
      facts.respondAfterDetach = r.failed.map((f) => f.code);
      assert.equal(r.ok.length, 0);
      assert.ok(r.failed.every((f) => f.code === 'EINVAL'));
    },
  );
  await step(
    'queue: a cookie the kernel reuses marks the old group answered by the kernel',
    async () => {
      const before = kernelAnswered;
      a.mockDomainReplace(fd, md.stdevId, nested);
      await injectAndWait(5, APERTURE);
      await waitFor('kernel answers flushed', () => kernelAnswered >= before + 5);
      assert.equal(q.pending().length, 5);
      assert.equal(q.drain(0), 5);
    },
  );
  await step(
    'queue: totals add up; every group read was answered exactly once; close is clean',
    async () => {
      const t = q.totals();
      facts.totals = t;
      assert.equal(t.malformed, 0);
      assert.equal(t.faults, t.groups);
      assert.equal(t.answered, t.success + t.invalid);
      assert.equal(t.answered, t.byUser + t.byPolicy + t.byDrain + t.byKernel);
      await waitFor(
        'all reads and answers flushed',
        () => readGroups.length === t.groups && answerLog.length === t.answered,
      );
      assert.deepEqual(
        [...answered.keys()].sort((x, y) => x - y),
        [...readGroups].sort((x, y) => x - y),
        'answered exactly the groups read',
      );
      q.close();
      assert.equal(q.closed, true);
      assert.throws(
        () => q.respond([1], 0),
        (e: NodeJS.ErrnoException) => e.code === 'EBADF',
      );
    },
  );
  await step('errors are NativeErrors: destroy of an unknown id', () => {
    try {
      a.destroy(fd, 99999);
      assert.fail('destroy succeeded');
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { syscall: string };
      facts.destroyUnknown = e.code;
      assert.equal(e.syscall, 'ioctl IOMMU_DESTROY');
      assert.equal(typeof e.errno, 'number');
    }
  });
  a.close(fd);
  facts.openMissing = errnoOf(() => a.openIommufd('/dev/no-such-iommu'));
  finish();
}

void main();
