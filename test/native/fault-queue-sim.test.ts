// The native fault queue on the simulator (which emulates the kernel fault
// FD): reading, grouping, answering, policy, overflow, detach, close.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { test } from 'node:test';
import type { NativeFaultQueue } from '../../main/node/native/addon-types';
import { waitFor } from '../shared/until';
import { addon, collect, records, spec } from './addon';

const LAST_PAGE = 2;
const PASID_VALID = 1;
const hold = { rules: [], fallback: { kind: 'hold' as const } };

function simQueue(opts: { jsBufferRecords?: number; outstandingLimit?: number } = {}) {
  return addon().createFaultQueue({ kind: 'sim', flushIntervalMs: 2, ...opts });
}

async function withQueue(
  opts: Parameters<typeof simQueue>[0],
  fn: (q: NativeFaultQueue, seen: ReturnType<typeof collect>) => Promise<void>,
) {
  const q = simQueue(opts);
  const seen = collect(q);
  try {
    await fn(q, seen);
  } finally {
    q.stopInject();
    q.drain(1);
    q.close();
  }
}

test('cookies count from 1 per group; groups arrive whole with LAST_PAGE on the last page', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 7, groupPages: 3, devices: 2, perm: 3 }));
    await waitFor('3 groups', () => q.totals().groups === 3);
    const pend = q.pending();
    assert.deepEqual(
      pend.map((p) => [p.cookie, p.devId, p.pasid, p.grpid]),
      [
        [1, 1, 0xffffffff, 0],
        [2, 2, 0xffffffff, 0],
        [3, 1, 0xffffffff, 1],
      ],
    );
    const g1 = records(pend[0]?.records ?? new ArrayBuffer(0));
    assert.deepEqual(
      g1.map((r) => [r.cookie, r.flags, r.addr]),
      [
        [1, 0, 0x10000n],
        [1, 0, 0x11000n],
        [1, LAST_PAGE, 0x12000n],
      ],
    );
    assert.equal(records(pend[2]?.records ?? new ArrayBuffer(0)).length, 1, 'last group is short');
    await waitFor('records flushed', () => seen.records === 7);
    const all = seen.batches.flatMap((b) => records(b.records));
    assert.deepEqual(
      all.map((r) => r.cookie),
      [1, 1, 1, 2, 2, 2, 3],
    );
    for (const b of seen.batches) assert.equal(b.readNs.length, b.records.byteLength / 40);
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

test('a group larger than the read buffer is still read whole (buffer grows)', () =>
  withQueue({}, async (q) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 1000, groupPages: 1000 }));
    await waitFor('1 group', () => q.totals().groups === 1);
    const [g] = q.pending();
    assert.equal(g?.records.byteLength, 1000 * 40);
    assert.equal(q.totals().malformed, 0);
  }));

test('respond: answers success and invalid; unknown, repeated and answered cookies are ESTALE', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 4 }));
    await waitFor('4 groups', () => q.totals().pending === 4);
    const r = q.respond([1, 77, 2, 1], 0);
    assert.deepEqual(r.ok, [1, 2]);
    assert.deepEqual(
      r.failed.map((f) => [f.cookie, f.code]),
      [
        [77, 'ESTALE'],
        [1, 'ESTALE'],
      ],
    );
    assert.match(r.failed[0]?.message ?? '', /cookie 77 is not pending/);
    assert.deepEqual(q.respond(new Uint32Array([3]), 1).ok, [3]);
    assert.equal(q.respond([3], 1).failed[0]?.code, 'ESTALE');
    await waitFor('answers flushed', () => seen.answers.length === 3);
    assert.deepEqual(
      seen.answers.map((a) => [a.cookie, a.code, a.by, a.rule]),
      [
        [1, 0, 0, -1],
        [2, 0, 0, -1],
        [3, 1, 0, -1],
      ],
    );
    const t = q.totals();
    assert.deepEqual([t.answered, t.success, t.invalid, t.pending], [3, 2, 1, 1]);
  }));

test('bad arguments throw TypeError with code EARG', () =>
  withQueue({}, async (q) => {
    const earg = (e: NodeJS.ErrnoException) => e instanceof TypeError && e.code === 'EARG';
    const a = addon();
    assert.throws(() => q.respond([1], 2 as 0), earg);
    assert.throws(() => q.respond('1' as unknown as number[], 0), earg);
    assert.throws(() => q.respond([-1], 0), earg);
    assert.throws(() => q.drain(3 as 0), earg);
    assert.throws(() => q.inject(spec({ pasidMin: 9, pasidMax: 1 })), earg);
    assert.throws(() => q.inject(spec({ groupPages: 0 })), earg);
    assert.throws(() => q.setPolicy({ rules: [], fallback: { kind: 'nope' } as never }), earg);
    assert.throws(() => q.setPolicy({ rules: [], fallback: { kind: 'map' } }), /iommufd/);
    assert.throws(() => a.createFaultQueue({ kind: 'other' } as never), earg);
    assert.throws(() => a.createFaultQueue({ kind: 'kernel' } as never), earg);
    assert.throws(() => a.ioasAlloc(-1), earg);
    assert.throws(() => a.openIommufd(5 as unknown as string), earg);
    const kernelQ = a.createFaultQueue({ kind: 'kernel', faultFd: openSync('/dev/null', 'r') });
    assert.throws(() => kernelQ.simDetach(), earg);
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
        { devId: 2, action: { kind: 'success' } }, // 0
        { pasidMin: 7, pasidMax: 7, action: { kind: 'invalid' } }, // 1
        { addrMin: 0x50000n, addrMax: 0x50fffn, action: { kind: 'delay', ns: 20e6, code: 0 } }, // 2
        { permAll: 2, permNone: 4, action: { kind: 'hold' } }, // 3
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
    // Cookies are reused as soon as a group is answered (as the kernel
    // does), so the answers are told apart by the rule that gave them.
    const byRule = new Map(seen.answers.map((a) => [a.rule, a]));
    assert.deepEqual(
      [-1, 0, 1, 2].map((r) => [byRule.get(r)?.rule, byRule.get(r)?.code, byRule.get(r)?.by]),
      [
        [-1, 1, 1],
        [0, 0, 1],
        [1, 1, 1],
        [2, 0, 1],
      ],
    );
    assert.ok((byRule.get(2)?.latencyNs ?? 0) >= 20e6, 'delay waited 20 ms');
    assert.ok(Date.now() - start >= 20);
    // The held group's injection may still be under way: wait for its read.
    await waitFor('5 read', () => q.totals().groups === 5);
    const held = q.pending();
    assert.equal(held.length, 1);
    assert.equal(records(held[0]?.records ?? new ArrayBuffer(0))[0]?.addr, 0x90000n);
  }));

test('a delayed answer is skipped when the user answered first', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy({ rules: [], fallback: { kind: 'delay', ns: 30e6, code: 1 } });
    q.inject(spec({ count: 1 }));
    await waitFor('read', () => q.totals().pending === 1);
    assert.deepEqual(q.respond([1], 0).ok, [1]);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      seen.answers.map((a) => [a.cookie, a.code, a.by]),
      [[1, 0, 0]],
    );
    assert.equal(q.totals().errors, 0);
  }));

test('overflow: a tiny JS buffer counts overflow, yet every group is answered', () =>
  withQueue({ jsBufferRecords: 4 }, async (q, seen) => {
    q.setPolicy({ rules: [], fallback: { kind: 'success' } });
    q.inject(spec({ count: 5000 }));
    await waitFor('all answered', () => q.totals().answered === 5000);
    await waitFor('flushed', () => seen.answers.length === 5000);
    const t = q.totals();
    assert.ok(t.overflow > 0, 'overflow was counted');
    assert.equal(seen.records + t.overflow, t.faults);
    assert.ok(seen.batches.every((b) => b.records.byteLength <= 4 * 40));
    assert.equal(t.pending, 0);
  }));

test('outstandingLimit: the simulated device stalls until groups are answered', () =>
  withQueue({ outstandingLimit: 5 }, async (q) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 12 }));
    await waitFor('5 read', () => q.totals().groups === 5);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(q.injectProgress().injected, 5);
    assert.equal(q.injectProgress().done, false);
    q.respond([1, 2, 3], 0);
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
  }));

test('drain with cookies answers only those still pending (by drain); stale ones are skipped', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 6 }));
    await waitFor('6 groups', () => q.totals().pending === 6);
    // Step: cookie 2 is answered by the user first, so the drain must skip it.
    assert.deepEqual(q.respond([2], 0).ok, [2]);
    // Step: a list with a stale (2), unknown (99) and repeated (3) cookie drains 3 and 5 only.
    assert.equal(q.drain(1, [2, 3, 99, 3, 5]), 2);
    assert.equal(q.drain(1, new Uint32Array([3, 5])), 0, 'already drained: nothing, no error');
    assert.equal(q.drain(1, []), 0);
    assert.deepEqual(
      q.pending().map((p) => p.cookie),
      [1, 4, 6],
    );
    await waitFor('flushed', () => seen.answers.length === 3);
    assert.deepEqual(
      seen.answers.map((a) => [a.cookie, a.code, a.by, a.rule]),
      [
        [2, 0, 0, -1],
        [3, 1, 2, -1],
        [5, 1, 2, -1],
      ],
    );
    const t = q.totals();
    assert.equal(t.errors, 0, 'skipped cookies are not errors');
    assert.deepEqual([t.answered, t.pending], [3, 3]);
    // Negative: a cookie list that is not one throws EARG.
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
    assert.equal(q.simDetach(), 6);
    assert.equal(q.pending().length, 0);
    await waitFor('flushed', () => seen.answers.length === 6);
    assert.ok(seen.answers.every((a) => a.by === 3 && a.code === 1));
    assert.equal(q.respond([1], 0).failed[0]?.code, 'ESTALE');
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
