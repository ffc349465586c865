// The native fault queue on the simulator (which emulates the kernel fault
// FD): reading, grouping, answering by group, policy, overflow, detach, close.
// Group identity, ESTALE and exactness at scale: fault-queue-identity.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { test } from 'node:test';
import type { NativeAction, NativeRule } from '../../main/node/native/addon-types';
import { compileNativeMatch } from '../../main/node/native/compile-match';
import { parseFilter } from '../../main/common/filter/parser';
import { waitFor } from '../shared/until';
import { addon, assertExact, collect, hold, records, simQueue, spec, withQueue } from './addon';

const LAST_PAGE = 2;
const PASID_VALID = 1;
const rule = (filter: string, action: NativeAction): NativeRule => ({
  match: compileNativeMatch(parseFilter(filter, { readTimeOnly: true })),
  action,
});

test('groups arrive whole with LAST_PAGE on the last page, each with a new sequence number', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 7, groupPages: 3, devices: 2, perm: 3 }));
    await waitFor('3 groups', () => q.totals().groups === 3);
    const pend = q.pending();
    assert.deepEqual(
      pend.map((p) => [p.devId, p.pasid, p.grpid]),
      [
        [1, 0xffffffff, 0],
        [2, 0xffffffff, 0],
        [1, 0xffffffff, 1],
      ],
    );
    // Step: sequence numbers increase in read order; cookies are distinct while pending.
    const groups = pend.map((p) => p.group);
    assert.ok(groups[0]! >= 1 && groups[0]! < groups[1]! && groups[1]! < groups[2]!);
    assert.equal(new Set(pend.map((p) => p.cookie)).size, 3);
    const g1 = records(pend[0]?.records ?? null);
    assert.deepEqual(
      g1.map((r) => [r.cookie, r.flags, r.addr]),
      [
        [pend[0]?.cookie, 0, 0x10000n],
        [pend[0]?.cookie, 0, 0x11000n],
        [pend[0]?.cookie, LAST_PAGE, 0x12000n],
      ],
    );
    assert.equal(records(pend[2]?.records ?? null).length, 1, 'last group is short');
    // Step: the read list names the same groups with their records, in read order.
    await waitFor('reads flushed', () => seen.reads.length === 3);
    assert.deepEqual(
      seen.reads.map((r) => [r.group, r.cookie, r.pages]),
      pend.map((p) => [p.group, p.cookie, p.records.byteLength / 40]),
    );
    seen.reads.forEach((r, i) => assert.deepEqual(r.records, pend[i]?.records));
    assert.equal(seen.records, 7);
    for (const b of seen.batches) assert.equal(b.queue, q.id);
    assertExact(seen, groups);
  }));

test('a PASID sets PASID_VALID; PASIDs go round-robin over the range', () =>
  withQueue({}, async (q) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 3, pasidMin: 5, pasidMax: 6 }));
    await waitFor('3 groups', () => q.totals().groups === 3);
    const pend = q.pending();
    assert.deepEqual(
      pend.map((p) => p.pasid),
      [5, 6, 5],
    );
    const r = records(pend[0]?.records ?? new ArrayBuffer(0))[0];
    assert.equal(r?.flags, PASID_VALID | LAST_PAGE);
  }));

// The reader starts with room for 256 records and grows on the kernel's
// EINVAL ("the first group does not fit"). Needs the kernel-exact simulator
// (EINVAL for a too-small buffer, as iommufd_fault_fops_read does).
test('groups larger than the read buffer are read whole: the buffer grows on EINVAL', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    for (const pages of [257, 300, 1000]) {
      q.inject(spec({ count: pages, groupPages: pages }));
      await waitFor(`the ${pages}-page group`, () => q.injectProgress().done);
    }
    await waitFor('3 groups', () => q.totals().groups === 3);
    assert.deepEqual(
      q.pending().map((g) => g.records.byteLength / 40),
      [257, 300, 1000],
    );
    const t = q.totals();
    assert.deepEqual([t.faults, t.malformed, t.errors], [1557, 0, 0]);
    await waitFor('reads flushed', () => seen.reads.length === 3);
    assert.equal(seen.errors.length, 0, 'no read error for a large group');
  }));

// PRI groups stop at 2048 pages, far below the reader's 10 MiB default cap,
// so these lower the cap (maxReadBytes) to reach its edge with real groups.
test('the read buffer grows up to a cap that is not a doubling of its start: a group that fits it is read whole', () =>
  withQueue({ maxReadBytes: 1500 * 40 }, async (q, seen) => {
    q.setPolicy(hold);
    // 256 → 512 → 1024 records, then 1500 (the cap), not 2048.
    q.inject(spec({ count: 1500, groupPages: 1500 }));
    await waitFor('the 1500-page group', () => q.totals().groups === 1);
    assert.deepEqual(
      q.pending().map((g) => g.records.byteLength / 40),
      [1500],
    );
    const t = q.totals();
    assert.deepEqual([t.faults, t.errors], [1500, 0]);
    await waitFor('read flushed', () => seen.reads.length === 1);
    assert.equal(seen.errors.length, 0);
  }));

// Also needs the kernel-exact simulator's EINVAL.
test('a group larger than the largest read buffer is one clear read error, then reading stops', () =>
  withQueue({ maxReadBytes: 2047 * 40 }, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 2048, groupPages: 2048 })); // one record past the cap
    await waitFor('read error', () => seen.errors.length > 0, 20000);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.errors.length, 1, 'reported once, not per wake');
    const e = seen.errors[0];
    assert.deepEqual([e?.code, e?.op, e?.group, e?.cookie], ['EMSGSIZE', 'read', null, null]);
    assert.match(e?.message ?? '', /first pending fault group does not fit in 81880 bytes/);
    // Step: reading has stopped: a group that would fit is not read either.
    q.inject(spec({ count: 1 }));
    await waitFor('injected', () => q.injectProgress().done);
    await new Promise((r) => setTimeout(r, 50));
    const t = q.totals();
    assert.deepEqual([t.groups, t.faults, t.errors], [0, 0, 1]);
    assert.equal(seen.errors.length, 1);
  }));

test('respond: answers groups success and invalid; unknown, repeated and answered ones are ESTALE', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 4 }));
    await waitFor('4 groups', () => q.totals().pending === 4);
    const [g1, g2, g3] = q.pending().map((p) => p.group) as [number, number, number];
    const never = g1 + 1e9;
    const r = q.respond([g1, never, g2, g1], 0);
    assert.deepEqual(r.ok, [g1, g2]);
    assert.deepEqual(
      r.failed.map((f) => [f.group, f.code]),
      [
        [never, 'ESTALE'],
        [g1, 'ESTALE'],
      ],
    );
    assert.match(r.failed[0]?.message ?? '', new RegExp(`group ${never} was never read`));
    assert.match(r.failed[1]?.message ?? '', /listed twice/);
    assert.deepEqual(q.respond(new Float64Array([g3]), 1).ok, [g3]);
    // Negative: answering again names who answered, with which code, and when.
    const again = q.respond([g3], 0).failed[0];
    assert.equal(again?.code, 'ESTALE');
    assert.equal(again?.answeredBy, 0);
    assert.equal(again?.answeredCode, 1);
    assert.ok((again?.answeredAtNs ?? 0) > 0);
    assert.match(
      again?.message ?? '',
      new RegExp(`group ${g3} .*already answered invalid by the user .* ago`),
    );
    await waitFor('answers flushed', () => seen.answers.length === 3);
    assert.deepEqual(
      seen.answers.map((a) => [a.group, a.code, a.by, a.rule]),
      [
        [g1, 0, 0, -1],
        [g2, 0, 0, -1],
        [g3, 1, 0, -1],
      ],
    );
    const t = q.totals();
    assert.deepEqual([t.answered, t.success, t.invalid, t.byUser, t.pending], [3, 2, 1, 3, 1]);
  }));

test('bad arguments throw TypeError with code EARG', () =>
  withQueue({}, async (q) => {
    const earg = (e: NodeJS.ErrnoException) => e instanceof TypeError && e.code === 'EARG';
    const a = addon();
    assert.throws(() => q.respond([1], 2 as 0), earg);
    assert.throws(() => q.respond('1' as unknown as number[], 0), earg);
    assert.throws(() => q.respond([-1], 0), earg);
    assert.throws(() => q.respond([1.5], 0), earg);
    assert.throws(() => q.respond(new Uint32Array([1]) as unknown as number[], 0), earg);
    assert.throws(() => q.simRefuseAnswers(-1), earg);
    assert.throws(() => q.drain(3 as 0), earg);
    assert.throws(() => q.inject(spec({ pasidMin: 9, pasidMax: 1 })), earg);
    assert.throws(() => q.inject(spec({ groupPages: 0 })), earg);
    assert.throws(() => q.setPolicy({ rules: [], fallback: { kind: 'nope' } as never }), earg);
    assert.throws(() => q.setPolicy({ rules: [], fallback: { kind: 'map' } }), /iommufd/);
    // A delay past 60 s (1e300 used to cast to 0 and answer at once), negative or NaN.
    for (const ns of [1e300, 2 ** 64, 60e9 + 1, -1, NaN])
      assert.throws(
        () => q.setPolicy({ rules: [], fallback: { kind: 'delay', ns, code: 0 } }),
        (e: NodeJS.ErrnoException) =>
          earg(e) &&
          (ns < 0 || Number.isNaN(ns) || /fallback\.ns must be 0\.\.60e9/.test(e.message)),
        `delay ${ns} ns`,
      );
    q.setPolicy({ rules: [], fallback: { kind: 'delay', ns: 60e9, code: 0 } });
    assert.throws(() => a.createFaultQueue({ kind: 'other' } as never), earg);
    assert.throws(() => a.createFaultQueue({ kind: 'kernel' } as never), earg);
    // The read buffer's cap: whole records (40 bytes) in 40..10 MiB.
    for (const maxReadBytes of [0, 39, 41, 10485760 + 40, 1.5, -40])
      assert.throws(
        () => a.createFaultQueue({ kind: 'sim', maxReadBytes }),
        (e: NodeJS.ErrnoException) => earg(e) && /maxReadBytes/.test(e.message),
        `maxReadBytes ${maxReadBytes}`,
      );
    for (const maxReadBytes of [40, 10485760])
      a.createFaultQueue({ kind: 'sim', maxReadBytes }).close();
    // The PRI credit: 0..2^24.
    assert.throws(
      () => a.createFaultQueue({ kind: 'sim', outstandingLimit: 2 ** 24 + 1 }),
      (e: NodeJS.ErrnoException) =>
        earg(e) && /outstandingLimit must be 0\.\.2\^24/.test(e.message),
    );
    a.createFaultQueue({ kind: 'sim', outstandingLimit: 2 ** 24 }).close();
    assert.throws(() => a.ioasAlloc(-1), earg);
    assert.throws(() => a.openIommufd(5 as unknown as string), earg);
    const kernelQ = a.createFaultQueue({ kind: 'kernel', faultFd: openSync('/dev/null', 'r') });
    assert.throws(() => kernelQ.simDetach(), earg);
    assert.throws(() => kernelQ.simRefuseAnswers(1), earg);
    assert.throws(() => kernelQ.inject(spec()), earg);
    kernelQ.close();
  }));

test('kernel-style NativeErrors carry code, errno and syscall', () => {
  const a = addon();
  try {
    a.openIommufd('/dev/iommuscope-no-such-device');
    assert.fail('opened');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.errno, 2);
    assert.equal(e.syscall, 'open /dev/iommuscope-no-such-device');
  }
});

test('policy: rules by device, PASID, address and permission; delay answers later', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy({
      rules: [
        rule('dev == 2', { kind: 'success' }), // 0
        rule('pasid == 7', { kind: 'invalid' }), // 1
        rule('addr in {0x50000..0x50fff}', { kind: 'delay', ns: 20e6, code: 0 }), // 2
        rule('perm contains "w" && !perm.x', { kind: 'hold' }), // 3
      ],
      fallback: { kind: 'invalid' },
    });
    const start = Date.now();
    q.inject(spec({ count: 2, devices: 2, addr: 0x1000n, perm: 1 })); // dev1 → fallback, dev2 → 0
    await waitFor('2', () => q.injectProgress().done);
    q.inject(spec({ count: 1, pasidMin: 7, pasidMax: 7 })); // → 1
    await waitFor('3', () => q.injectProgress().done);
    q.inject(spec({ count: 1, addr: 0x50000n })); // → 2 (delay)
    await waitFor('4', () => q.injectProgress().done);
    q.inject(spec({ count: 1, addr: 0x90000n, perm: 3 })); // → 3 (hold)
    await waitFor('4 answered', () => seen.answers.length === 4);
    // The groups in read order, each matched to its answer by sequence number.
    const byGroup = new Map(seen.answers.map((a) => [a.group, a]));
    const inOrder = seen.reads.slice(0, 4).map((r) => byGroup.get(r.group));
    assert.deepEqual(
      inOrder.map((a) => [a?.rule, a?.code, a?.by]),
      [
        [-1, 1, 1],
        [0, 0, 1],
        [1, 1, 1],
        [2, 0, 1],
      ],
    );
    assert.ok((inOrder[3]?.latencyNs ?? 0) >= 20e6, 'delay waited 20 ms');
    assert.ok(Date.now() - start >= 20);
    // The held group's injection may still be under way: wait for its read.
    await waitFor('5 read', () => q.totals().groups === 5);
    await waitFor('5 in the read list', () => seen.reads.length === 5);
    assert.deepEqual(
      q.pending().map((p) => p.group),
      [seen.reads[4]?.group],
    );
    const t = q.totals();
    assert.deepEqual([t.byPolicy, t.answered, t.pending], [4, 4, 1]);
  }));

test('a delayed answer is skipped when the user answered first', () =>
  withQueue({}, async (q, seen) => {
    // Long enough that a loaded machine still sees the group pending before the timer fires.
    q.setPolicy({ rules: [], fallback: { kind: 'delay', ns: 1e9, code: 1 } });
    q.inject(spec({ count: 1 }));
    await waitFor('read', () => q.totals().pending === 1);
    const g = q.pending()[0]?.group ?? 0;
    assert.deepEqual(q.respond([g], 0).ok, [g]);
    await new Promise((r) => setTimeout(r, 1200)); // past the delay: its answer must be skipped
    assert.deepEqual(
      seen.answers.map((a) => [a.group, a.code, a.by]),
      [[g, 0, 0]],
    );
    assert.equal(q.totals().errors, 0);
  }));

test('overflow: a tiny JS buffer leaves out records only; read and answered lists stay exact', () =>
  withQueue({ jsBufferRecords: 4 }, async (q, seen) => {
    q.setPolicy({ rules: [], fallback: { kind: 'success' } });
    q.inject(spec({ count: 5000 }));
    await waitFor('all answered', () => q.totals().answered === 5000);
    await waitFor('flushed', () => seen.answers.length === 5000);
    const t = q.totals();
    assert.ok(t.overflow > 0, 'overflow was counted');
    assert.equal(seen.records + t.overflow, t.faults);
    assert.equal(
      seen.batches.reduce((n, b) => n + b.overflow, 0),
      t.overflow,
    );
    assert.ok(seen.batches.every((b) => b.records.byteLength <= 4 * 40));
    // Every group is in the read list, with or without its records, and answered once.
    assert.equal(seen.reads.length, 5000);
    assert.equal(seen.reads.filter((r) => r.records === null).length, t.overflow);
    assertExact(seen);
    assert.deepEqual([t.pending, t.byPolicy], [0, 5000]);
  }));

test('outstandingLimit: the simulated device stalls until groups are answered', () =>
  withQueue({ outstandingLimit: 5 }, async (q) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 12 }));
    await waitFor('5 read', () => q.totals().groups === 5);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(q.injectProgress().injected, 5);
    assert.equal(q.injectProgress().done, false);
    const first3 = q
      .pending()
      .slice(0, 3)
      .map((p) => p.group);
    assert.deepEqual(q.respond(first3, 0).ok, first3);
    await waitFor('8 read', () => q.totals().groups === 8);
    q.setPolicy({ rules: [], fallback: { kind: 'success' } });
    q.drain(0);
    await waitFor('done', () => q.injectProgress().done);
    assert.equal(q.injectProgress().injected, 12);
  }));

test('rate paces injection natively; stopInject stops it', () =>
  withQueue({}, async (q) => {
    q.setPolicy({ rules: [], fallback: { kind: 'success' } });
    const t0 = Date.now();
    q.inject(spec({ count: 20, rate: 400 }));
    assert.throws(
      () => q.inject(spec()),
      (e: NodeJS.ErrnoException) => e.code === 'EBUSY',
    );
    await waitFor('done', () => q.injectProgress().done);
    assert.ok(Date.now() - t0 >= 40, 'about 50 ms at 400/s');
    q.inject(spec({ count: 1e6, rate: 10 }));
    q.stopInject();
    assert.equal(q.injectProgress().done, true);
    assert.ok(q.injectProgress().injected <= 1);
  }));

test('drain answers every pending group (by drain)', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 20, groupPages: 2 }));
    await waitFor('10 groups', () => q.totals().pending === 10);
    assert.equal(q.drain(1), 10);
    assert.equal(q.drain(1), 0);
    await waitFor('flushed', () => seen.answers.length === 10);
    assert.ok(seen.answers.every((a) => a.by === 2 && a.code === 1 && a.rule === -1));
    assertExact(seen);
    assert.equal(q.totals().byDrain, 10);
  }));

test('drain with groups answers only those still pending (by drain); stale ones are skipped', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 6 }));
    await waitFor('6 groups', () => q.totals().pending === 6);
    const g = q.pending().map((p) => p.group) as [number, number, number, number, number, number];
    // Step: group 2 is answered by the user first, so the drain must skip it.
    assert.deepEqual(q.respond([g[1]], 0).ok, [g[1]]);
    // Step: a list with a stale (2nd), never-read and repeated (3rd) group drains the 3rd and 5th only.
    assert.equal(q.drain(1, [g[1], g[2], g[5] + 1e6, g[2], g[4]]), 2);
    assert.equal(
      q.drain(1, new Float64Array([g[2], g[4]])),
      0,
      'already drained: nothing, no error',
    );
    assert.equal(q.drain(1, []), 0);
    assert.deepEqual(
      q.pending().map((p) => p.group),
      [g[0], g[3], g[5]],
    );
    await waitFor('flushed', () => seen.answers.length === 3);
    assert.deepEqual(
      seen.answers.map((a) => [a.group, a.code, a.by, a.rule]),
      [
        [g[1], 0, 0, -1],
        [g[2], 1, 2, -1],
        [g[4], 1, 2, -1],
      ],
    );
    const t = q.totals();
    assert.equal(t.errors, 0, 'skipped groups are not errors');
    assert.deepEqual([t.answered, t.byUser, t.byDrain, t.pending], [3, 1, 2, 3]);
    // Negative: a group list that is not one throws EARG.
    const earg = (e: NodeJS.ErrnoException) => e instanceof TypeError && e.code === 'EARG';
    assert.throws(() => q.drain(1, '3' as unknown as number[]), earg);
    assert.throws(() => q.drain(1, [-1]), earg);
    assert.equal(q.totals().pending, 3, 'a refused call answers nothing');
  }));

test('simDetach answers pending groups INVALID as the kernel (by kernel); injection then fails', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 6 }));
    await waitFor('6 groups', () => q.totals().pending === 6);
    const first = q.pending()[0]?.group ?? 0;
    assert.equal(q.simDetach(), 6);
    assert.equal(q.pending().length, 0);
    await waitFor('flushed', () => seen.answers.length === 6);
    assert.ok(seen.answers.every((a) => a.by === 3 && a.code === 1));
    assertExact(seen);
    assert.equal(q.totals().byKernel, 6);
    const stale = q.respond([first], 0).failed[0];
    assert.equal(stale?.code, 'ESTALE');
    assert.match(stale?.message ?? '', /already answered invalid by the kernel/);
    q.inject(spec({ count: 2 }));
    await waitFor('done', () => q.injectProgress().done);
    assert.equal(q.injectProgress().failed, 2);
    assert.match(q.injectProgress().lastError ?? '', /detached/);
  }));

test('no flush and no reads while nothing happens', () =>
  withQueue({}, async (q, seen) => {
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.batches.length, 0);
    assert.equal(q.totals().reads, 0);
  }));

test('close with pending groups answers nothing and later calls fail with EBADF', async () => {
  const q = simQueue();
  collect(q);
  q.setPolicy(hold);
  q.inject(spec({ count: 1e5, rate: 0 }));
  await waitFor('some read', () => q.totals().pending > 10);
  q.close();
  assert.equal(q.closed, true);
  assert.equal(q.totals().answered, 0);
  assert.ok(q.pending().length > 10, 'still listed: close does not answer');
  assert.throws(
    () => q.drain(1),
    (e: NodeJS.ErrnoException) => e.code === 'EBADF',
  );
  q.close(); // twice is fine
});

test('a queue dropped by JS while reading and injecting is finalized without a crash', () => {
  const load = process.env.IOMMUSCOPE_ADDON
    ? `require(${JSON.stringify(process.env.IOMMUSCOPE_ADDON)})`
    : `require(${JSON.stringify(require.resolve('../../main/node/native/load'))}).loadAddon()`;
  const script = `
    const a = ${load};
    let q = a.createFaultQueue({ kind: 'sim', flushIntervalMs: 1 });
    q.start(() => {});
    q.setPolicy({ rules: [], fallback: { kind: 'success' } });
    q.inject({ count: 1e7, rate: 0, pasidMin: 0, pasidMax: 3, devices: 4, groupPages: 2, perm: 1, addr: 0n });
    setTimeout(() => { q = null; global.gc(); setTimeout(() => { global.gc(); console.log('alive'); }, 50); }, 50);
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /alive/);
});
