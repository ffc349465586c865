// Group identity on the simulator: sequence numbers across queues, answers
// by group with ESTALE naming who answered, cookie reuse, races, refused
// automatic answers, and the exactness of read/answered lists at scale.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnsweredBy, type NativeFaultQueue } from '../../main/node/native/addon-types';
import { waitFor } from '../shared/until';
import { parseFilter } from '../../main/common/filter';
import { compileNativeMatch } from '../../main/node/native/compile-match';
import {
  assertExact,
  assertExactLean,
  collect,
  hold,
  records,
  simQueue,
  spec,
  success,
  withLeanQueue,
  withQueue,
} from './addon';

function totalsAddUp(q: NativeFaultQueue) {
  const t = q.totals();
  assert.equal(t.answered, t.success + t.invalid, 'answered = success + invalid');
  assert.equal(t.answered, t.byUser + t.byPolicy + t.byDrain + t.byKernel, 'answered = sum of by*');
  assert.equal(t.groups, t.answered + t.pending, 'groups = answered + pending');
  return t;
}

test('sequence numbers are unique and increasing across two queues and across close/reopen', async () => {
  const a = simQueue();
  const b = simQueue();
  assert.notEqual(a.id, b.id);
  a.setPolicy(hold);
  b.setPolicy(hold);
  collect(a);
  collect(b);
  a.inject(spec({ count: 3 }));
  await waitFor('a read 3', () => a.totals().groups === 3);
  b.inject(spec({ count: 3 }));
  await waitFor('b read 3', () => b.totals().groups === 3);
  a.inject(spec({ count: 2 }));
  await waitFor('a read 5', () => a.totals().groups === 5);
  const ga = a.pending().map((p) => p.group);
  const gb = b.pending().map((p) => p.group);
  // Step: both queues give out numbers from one counter, in read order.
  assert.deepEqual(
    [...ga, ...gb].sort((x, y) => x - y),
    [...new Set([...ga, ...gb])].sort((x, y) => x - y),
    'unique',
  );
  assert.ok(ga.slice(0, 3).every((g) => g < gb[0]!) && ga.slice(3).every((g) => g > gb[2]!));
  // Step: the same cookies on both queues are different groups.
  assert.deepEqual(
    a
      .pending()
      .map((p) => p.cookie)
      .slice(0, 3),
    b.pending().map((p) => p.cookie),
  );
  a.drain(1);
  a.close();
  // Step: a queue opened after close continues the count; ids are never reused.
  const c = simQueue();
  assert.ok(c.id > b.id);
  c.setPolicy(hold);
  collect(c);
  c.inject(spec({ count: 1 }));
  await waitFor('c read', () => c.totals().groups === 1);
  assert.ok((c.pending()[0]?.group ?? 0) > Math.max(...ga, ...gb));
  for (const q of [b, c]) {
    q.drain(1);
    q.close();
  }
});

test("ESTALE for another queue's group names that queue, and writes nothing", async () => {
  const a = simQueue();
  const b = simQueue();
  try {
    for (const q of [a, b]) {
      q.setPolicy(hold);
      collect(q);
      q.inject(spec({ count: 1 }));
    }
    await waitFor('both read', () => a.totals().groups === 1 && b.totals().groups === 1);
    const ga = a.pending()[0]?.group ?? 0;
    const r = b.respond([ga], 0);
    assert.deepEqual(r.ok, []);
    assert.equal(r.failed[0]?.code, 'ESTALE');
    assert.match(
      r.failed[0]?.message ?? '',
      new RegExp(`group ${ga} belongs to fault queue ${a.id}`),
    );
    assert.deepEqual([a.totals().pending, b.totals().pending], [1, 1], 'nothing was answered');
  } finally {
    for (const q of [a, b]) {
      q.drain(1);
      q.close();
    }
  }
});

// The kernel hands out the lowest free cookie, so a new group gets the cookie
// of one just answered. Needs the kernel-exact simulator (lowest free cookie).
test('a stale answer never reaches another group: B reuses A’s cookie, respond(A) is ESTALE', () =>
  withQueue({}, async (q, seen) => {
    q.setPolicy(hold);
    q.inject(spec({ count: 1 }));
    await waitFor('A read', () => q.totals().groups === 1);
    const A = q.pending()[0]!;
    assert.deepEqual(q.respond([A.group], 0).ok, [A.group]);
    q.inject(spec({ count: 1 }));
    await waitFor('B read', () => q.totals().groups === 2);
    const B = q.pending()[0]!;
    assert.equal(B.cookie, A.cookie, 'the simulator reuses the lowest free cookie, as the kernel');
    assert.notEqual(B.group, A.group);
    // Step: answering A again is refused naming the user; B is untouched.
    const r = q.respond([A.group], 1);
    assert.deepEqual(r.ok, []);
    assert.match(r.failed[0]?.message ?? '', /already answered success by the user/);
    assert.equal(r.failed[0]?.answeredBy, AnsweredBy.User);
    assert.deepEqual(
      q.pending().map((p) => p.group),
      [B.group],
    );
    assert.deepEqual(q.respond([B.group], 1).ok, [B.group]);
    await waitFor('flushed', () => seen.answers.length === 2);
    assert.deepEqual(
      seen.answers.map((x) => [x.group, x.cookie, x.code]),
      [
        [A.group, A.cookie, 0],
        [B.group, A.cookie, 1],
      ],
    );
    assertExact(seen);
  }));

test('respond racing the delay timer and itself: every group is answered exactly once', () =>
  withQueue({ outstandingLimit: 0 }, async (q, seen) => {
    // The delay fires on the reader thread while JS answers the same groups.
    q.setPolicy({ rules: [], fallback: { kind: 'delay', ns: 200e3, code: 1 } });
    const n = 20000;
    q.inject(spec({ count: n, rate: 200000 }));
    let userOk = 0;
    let stale = 0;
    while (q.totals().answered < n) {
      const groups = q.pending().map((p) => p.group);
      // Each group twice in one call, and again in a second call.
      const r1 = q.respond([...groups, ...groups], 0);
      const r2 = q.respond(groups, 0);
      userOk += r1.ok.length + r2.ok.length;
      stale += r1.failed.length + r2.failed.length;
      assert.ok([...r1.failed, ...r2.failed].every((f) => f.code === 'ESTALE'));
      assert.equal(r2.ok.length, 0, 'the second call finds nothing left');
      await new Promise((r) => setImmediate(r));
    }
    await waitFor('flushed', () => seen.answers.length === n);
    const t = totalsAddUp(q);
    assert.equal(t.byUser, userOk);
    assert.equal(t.byUser + t.byPolicy, n);
    assert.ok(stale >= userOk, 'every answered group was refused at least once more');
    assertExact(seen);
  }));

// The kernel refuses a well-formed answer with EINVAL only for a cookie it no
// longer knows: it answered that group INVALID itself. The queue records it so.
test('a refused automatic answer is recorded as answered by the kernel, once, named in the error', () =>
  withQueue({ jsBufferRecords: 0 }, async (q, seen) => {
    q.setPolicy(success);
    q.simRefuseAnswers(1);
    q.inject(spec({ count: 3 }));
    await waitFor(
      '3 read and answered',
      () => seen.reads.length === 3 && seen.answers.length === 3,
    );
    const refused = seen.reads[0]!;
    assert.deepEqual(q.pending(), [], 'nothing stays pending');
    // Step: the refused group (the first answer written) is the kernel's, INVALID, once.
    const mine = seen.answers.filter((a) => a.group === refused.group);
    assert.deepEqual(
      mine.map((a) => [a.cookie, a.code, a.by, a.rule]),
      [[refused.cookie, 1, AnsweredBy.Kernel, -1]],
    );
    assert.deepEqual(
      seen.answers.filter((a) => a.group !== refused.group).map((a) => [a.code, a.by]),
      [
        [0, AnsweredBy.Policy],
        [0, AnsweredBy.Policy],
      ],
    );
    // Step: the error names the group and its cookie, and says who answered it.
    assert.equal(seen.errors.length, 1);
    assert.deepEqual(
      [seen.errors[0]?.group, seen.errors[0]?.cookie, seen.errors[0]?.code, seen.errors[0]?.op],
      [refused.group, refused.cookie, 'EINVAL', 'write'],
    );
    assert.match(
      seen.errors[0]?.message ?? '',
      new RegExp(
        `group ${refused.group} \\(cookie ${refused.cookie}\\).*recorded as answered by the kernel`,
      ),
    );
    // Step: the refused group's records reach JS even with no room for automatic ones.
    assert.equal(records(refused.records)[0]?.cookie, refused.cookie);
    assert.deepEqual(
      seen.reads.slice(1).map((r) => r.records),
      [null, null],
    );
    // Step: a later user answer is ESTALE naming the kernel; nothing is written.
    const late = q.respond([refused.group], 0);
    assert.deepEqual(late.ok, []);
    assert.deepEqual(
      [late.failed[0]?.code, late.failed[0]?.answeredBy, late.failed[0]?.answeredCode],
      ['ESTALE', AnsweredBy.Kernel, 1],
    );
    assert.match(late.failed[0]?.message ?? '', /already answered invalid by the kernel/);
    // Step: the simulated kernel forgot the cookie: the next group gets it
    // again, and a stale answer for the refused group never reaches it.
    q.setPolicy(hold);
    q.inject(spec({ count: 1 }));
    await waitFor('4th read', () => q.totals().groups === 4);
    const next = q.pending()[0]!;
    assert.equal(next.cookie, refused.cookie, 'the lowest free cookie is the refused one');
    assert.equal(q.respond([refused.group], 0).failed[0]?.code, 'ESTALE');
    assert.deepEqual(
      q.pending().map((p) => p.group),
      [next.group],
    );
    assert.deepEqual(q.respond([next.group], 0).ok, [next.group]);
    await waitFor('answers flushed', () => seen.answers.length === 4);
    assertExact(seen);
    const t = totalsAddUp(q);
    assert.deepEqual(
      [t.byPolicy, t.byKernel, t.byUser, t.byDrain, t.success, t.invalid, t.errors, t.pending],
      [2, 1, 1, 0, 3, 1, 1, 0],
    );
  }));

// A quarter of the groups are held: the PRI credit must cover them all, or
// the simulated devices stall (as real ones do) before the count is read.
test('read/answered lists stay exact at full speed with a 1-record JS buffer; held records always arrive', () =>
  withQueue({ jsBufferRecords: 1, outstandingLimit: 300000 }, async (q, seen) => {
    q.setPolicy({
      rules: [{ match: compileNativeMatch(parseFilter('dev == 2')), action: { kind: 'hold' } }],
      fallback: { kind: 'success' },
    });
    const n = 300000;
    q.inject(spec({ count: n, devices: 4 }));
    await waitFor('all read', () => q.totals().groups === n, 60000);
    await waitFor('flushed', () => seen.reads.length === n, 20000);
    const held = seen.reads.filter((r, i) => i % 4 === 1);
    assert.ok(
      held.every((r) => r.records !== null),
      'records of held groups are never left out',
    );
    const t = totalsAddUp(q);
    assert.deepEqual([t.pending, t.byPolicy, t.errors], [n / 4, (3 * n) / 4, 0]);
    assert.ok(t.overflow > 0);
    assert.equal(seen.reads.filter((r) => r.records === null).length, t.overflow);
    assertExact(
      seen,
      held.map((r) => r.group),
    );
    assert.equal(q.drain(0), n / 4);
    await waitFor('drain flushed', () => seen.answers.length === n);
    assertExact(seen);
  }));

test('3,000,000 faults through the pipeline: no false read errors, totals and lists exact', () =>
  withLeanQueue({}, async (q, seen) => {
    q.setPolicy(success);
    const n = 3e6;
    q.inject(spec({ count: n, devices: 4, pasidMin: 1, pasidMax: 8 }));
    await waitFor('all answered', () => q.totals().answered === n, 120000);
    await waitFor('flushed', () => seen.answers === n, 20000);
    const t = totalsAddUp(q);
    assert.deepEqual([t.faults, t.groups, t.byPolicy, t.errors, t.malformed], [n, n, n, 0, 0]);
    assert.equal(seen.errors, 0);
    assertExactLean(seen);
  }));

// Every group is held: a PRI credit of 2^21 (> 2,000,000, within the 2^24 bound).
test('2,000,000 held groups drained: byDrain is exact and the totals add up', () =>
  withLeanQueue({ outstandingLimit: 2 ** 21 }, async (q, seen) => {
    q.setPolicy(hold);
    const n = 2e6;
    q.inject(spec({ count: n, devices: 8 }));
    await waitFor('all held', () => q.totals().pending === n, 120000);
    assert.equal(q.drain(1), n);
    assert.equal(q.drain(1), 0);
    await waitFor('flushed', () => seen.answers === n, 30000);
    const t = totalsAddUp(q);
    assert.deepEqual([t.byDrain, t.invalid, t.pending, t.errors], [n, n, 0, 0]);
    assertExactLean(seen);
  }));

test('JS falling behind pauses reading (bounded batches), then every group still arrives exactly once', async () => {
  const q = simQueue({ outstandingLimit: 0 });
  const reads: number[] = [];
  const seen = {
    read: [] as Float64Array[],
    answered: [] as Float64Array[],
    reads: 0,
    answers: 0,
    errors: 0,
  };
  let slow = 3;
  q.start((b) => {
    reads.push(b.read.group.length);
    seen.read.push(b.read.group);
    seen.answered.push(b.answered.group);
    seen.reads += b.read.group.length;
    seen.answers += b.answered.group.length;
    seen.errors += b.errors.length;
    // A stalled event loop: the reader must stop reading, not buffer without bound.
    if (slow-- > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 800);
  });
  try {
    q.setPolicy(success);
    const n = 1e6;
    q.inject(spec({ count: n }));
    await waitFor('all answered', () => q.totals().answered === n, 60000);
    await waitFor('flushed', () => seen.answers === n, 20000);
    const cap = (1 << 18) + 256; // the pause threshold plus one read
    assert.ok(Math.max(...reads) <= cap, `largest batch ${Math.max(...reads)} reads > ${cap}`);
    assert.ok(Math.max(...reads) >= 1 << 18, 'the stall did fill a batch to the threshold');
    assertExactLean(seen);
    totalsAddUp(q);
  } finally {
    q.stopInject();
    q.close();
  }
});
