// One set of fault-path cases, run against the simulator in test/unit and
// against the kernel's selftest mock device in the VM (test/vm-guest): the
// same assertions hold for both, which is what "sim has kernel semantics" means.
import assert from 'node:assert/strict';
import { FaultFlag } from '../../main/common/fault-record';
import { INJECT_DEFAULTS, type InjectSpec } from '../../main/common/inject';
import type { PolicySpec } from '../../main/common/policy';
import { parseFilter } from '../../main/common/filter/parser';
import { FaultSession, type DecodedBatch } from '../../main/node/session/fault-session';
import type { QueueTotals } from '../../main/node/native/addon-types';
import type { FaultSource } from '../../main/node/sources/fault-source';

/** Opens a fresh source (sim or mock); each case closes it. */
export type SourceFactory = () => FaultSource;

export interface FaultSourceCase {
  name: string;
  /** Only the simulator can do this (say why). */
  simOnly?: string;
  run(open: SourceFactory): Promise<void>;
}

const hold: PolicySpec = { rules: [], fallback: { kind: 'hold' } };

export function injectSpec(over: Partial<InjectSpec> & { count: number }): InjectSpec {
  return { ...INJECT_DEFAULTS, ...over };
}

/** A session that records every batch. */
export function startSession(open: SourceFactory, policy: PolicySpec = hold) {
  const session = new FaultSession(open(), { policy, flushIntervalMs: 5 });
  const batches: DecodedBatch[] = [];
  session.on('batch', (b) => batches.push(b));
  return { session, batches };
}

type SessionBody = (started: ReturnType<typeof startSession>) => Promise<void>;

/** Runs `body` on a fresh session (policy: hold unless given), closing it whatever happens. */
export function withSession(open: SourceFactory, body: SessionBody): Promise<void>;
export function withSession(
  open: SourceFactory,
  policy: PolicySpec,
  body: SessionBody,
): Promise<void>;
export async function withSession(
  open: SourceFactory,
  policyOrBody: PolicySpec | SessionBody,
  maybeBody?: SessionBody,
): Promise<void> {
  const [policy, body] =
    typeof policyOrBody === 'function' ? [hold, policyOrBody] : [policyOrBody, maybeBody!];
  const started = startSession(open, policy);
  try {
    await body(started);
  } finally {
    await started.session.close();
  }
}

/** Wait until `pred(totals)` holds; fails naming the last totals. */
export async function waitTotals(
  session: FaultSession,
  pred: (t: QueueTotals) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<QueueTotals> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = session.totals();
    if (pred(t)) return t;
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}; totals ${JSON.stringify(t)}`);
    await session.nextBatch(50);
  }
}

/** Let pending batches arrive so answered.* reflects everything done so far. */
async function settle(session: FaultSession): Promise<void> {
  // Batches come further apart while JS is slow (a loaded VM): wait for what is counted.
  assert.ok(await session.untilDelivered(10_000), 'every counted read and answer delivered');
  await new Promise((r) => setTimeout(r, 30)); // room for a mistaken extra answer to show
}

function answeredIn(batches: DecodedBatch[]): { group: number; code: number; by: number }[] {
  return batches.flatMap((b) =>
    Array.from(b.answered.group, (group, i) => ({
      group,
      code: b.answered.code[i]!,
      by: b.answered.by[i]!,
    })),
  );
}

/** Sequence numbers of every group read, in read order. */
function groupsRead(batches: DecodedBatch[]): number[] {
  return batches.flatMap((b) => Array.from(b.read.group));
}

function faultCookies(batches: DecodedBatch[]): number[] {
  return batches.flatMap((b) => Array.from(b.read.cookie));
}

function countBy(values: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/**
 * Every group read is read once and answered exactly once, by group
 * sequence number (cookies repeat: the kernel reuses the lowest free one).
 */
function assertAnsweredOnce(batches: DecodedBatch[], groups: number[]): void {
  const reads = countBy(groupsRead(batches));
  const answers = countBy(answeredIn(batches).map((a) => a.group));
  for (const g of new Set(groups)) {
    assert.equal(reads.get(g) ?? 0, 1, `group ${g} read once`);
    assert.equal(answers.get(g) ?? 0, 1, `group ${g}: ${answers.get(g) ?? 0} answers`);
  }
  for (const [g, n] of answers)
    assert.equal(reads.get(g), 1, `group ${g} answered ${n}x, read ${reads.get(g) ?? 0}x`);
}

export const faultSourceCases: FaultSourceCase[] = [
  {
    name: 'inject, read and answer: every request read once, answered once by the user',
    run: (open) =>
      withSession(open, async ({ session, batches }) => {
        session.inject(
          injectSpec({ count: 4, pasidMin: 1, pasidMax: 2, perm: 3, addr: '0x2000000' }),
        );
        await waitTotals(session, (t) => t.faults === 4 && t.pending === 4, '4 pending groups');
        const pending = session.pending();
        assert.equal(pending.length, 4);
        const page = pending[0]!.pages[0]!;
        assert.equal(page.perm, 3, 'perm rw as injected');
        assert.ok(page.flags & FaultFlag.LastPage, 'one-page group has LAST_PAGE');
        assert.ok(page.flags & FaultFlag.PasidValid, 'PASID 1..2 sets PASID_VALID');
        assert.deepEqual(pending.map((g) => g.pasid).sort(), [1, 1, 2, 2]);
        const addrs = pending.flatMap((g) => g.pages.map((p) => p.addr)).sort();
        assert.deepEqual(addrs, ['0x2000000', '0x2001000', '0x2002000', '0x2003000']);
        const r = session.respond(
          pending.map((g) => g.group),
          0,
        );
        assert.equal(r.ok.length, 4);
        assert.deepEqual(r.failed, []);
        const t = await waitTotals(session, (x) => x.answered === 4, '4 answered');
        assert.equal(t.success, 4);
        assert.equal(t.pending, 0);
        await settle(session);
        assertAnsweredOnce(
          batches,
          pending.map((g) => g.group),
        );
        assert.deepEqual(
          groupsRead(batches),
          pending.map((g) => g.group),
          'the groups read, in read order, are the pending ones',
        );
        assert.deepEqual(faultCookies(batches).sort(), pending.map((g) => g.cookie).sort());
      }),
  },
  {
    name: 'drain answers every pending group with the given code, once',
    run: (open) =>
      withSession(open, async ({ session, batches }) => {
        session.inject(injectSpec({ count: 3 }));
        await waitTotals(session, (t) => t.pending === 3, '3 pending');
        const groups = session.pending().map((g) => g.group);
        assert.equal(session.drain(1), 3);
        assert.equal(session.drain(1), 0, 'a second drain finds nothing');
        const t = await waitTotals(session, (x) => x.answered === 3, '3 answered');
        assert.equal(t.invalid, 3);
        await settle(session);
        assertAnsweredOnce(batches, groups);
        assert.ok(
          answeredIn(batches).every((a) => a.by === 2 && a.code === 1),
          'by drain, INVALID',
        );
      }),
  },
  {
    name: 'filtered drain: a filter-language match answers only the pending groups it selects',
    run: (open) =>
      withSession(open, async ({ session }) => {
        session.inject(injectSpec({ count: 6, pasidMin: 1, pasidMax: 3, perm: 3 }));
        await waitTotals(session, (t) => t.pending === 6, '6 pending');
        assert.equal(session.drain(1, { match: parseFilter('pasid == 2 || pasid == 9') }), 2);
        assert.equal(session.drain(1, { match: parseFilter('perm.x') }), 0, 'none requests exec');
        const left = session.pending();
        assert.deepEqual(
          left.map((g) => g.pasid),
          [1, 3, 1, 3],
        );
        // The match and the group list must both hold.
        const group = left[0]!.group;
        assert.equal(session.drain(1, { match: parseFilter('pasid == 1'), groups: [group] }), 1);
        assert.equal(session.drain(0, { pasidMin: 3, pasidMax: 3 }), 2, 'the older form');
        assert.deepEqual(
          session.pending().map((g) => g.pasid),
          [1],
        );
      }),
  },
  {
    name: 'unknown group: reported as failed (ESTALE), not thrown; the real group stays pending',
    run: (open) =>
      withSession(open, async ({ session }) => {
        session.inject(injectSpec({ count: 1 }));
        await waitTotals(session, (t) => t.pending === 1, '1 pending');
        const group = session.pending()[0]!.group;
        const r = session.respond([group + 1000], 0);
        assert.deepEqual(r.ok, []);
        assert.equal(r.failed.length, 1);
        assert.equal(r.failed[0]!.group, group + 1000);
        assert.equal(r.failed[0]!.code, 'ESTALE');
        assert.equal(session.totals().pending, 1);
        assert.deepEqual(session.respond([group], 0).ok, [group]);
        const again = session.respond([group], 0);
        assert.equal(again.failed[0]?.code, 'ESTALE', 'answering twice is refused');
        assert.equal(again.failed[0]?.answeredBy, 0, 'the refusal names the user as who answered');
      }),
  },
  {
    name: 'a stale answer after cookie reuse is refused (ESTALE) and never answers the group now holding the cookie',
    run: (open) =>
      withSession(open, async ({ session, batches }) => {
        session.inject(injectSpec({ count: 1 }));
        await waitTotals(session, (t) => t.pending === 1, 'the first group pending');
        const first = session.pending()[0]!;
        assert.deepEqual(session.respond([first.group], 0).ok, [first.group]);
        await waitTotals(session, (t) => t.pending === 0 && t.answered === 1, 'the first answered');
        // Step: the next group gets the cookie back (the kernel hands out the lowest free one).
        session.inject(injectSpec({ count: 1, addr: '0x5000000' }));
        await waitTotals(session, (t) => t.pending === 1, 'the second group pending');
        const second = session.pending()[0]!;
        assert.equal(second.cookie, first.cookie, 'the cookie was reused');
        assert.notEqual(second.group, first.group, 'the group number was not');
        // Step: answering the first group again (a stale screen) is refused …
        const stale = session.respond([first.group], 1);
        assert.deepEqual(stale.ok, []);
        assert.equal(stale.failed[0]?.code, 'ESTALE');
        assert.equal(stale.failed[0]?.answeredBy, 0, 'it names the user as who answered');
        // … and the group now holding that cookie is untouched.
        assert.deepEqual(
          session.pending().map((g) => g.group),
          [second.group],
        );
        assert.equal(session.totals().answered, 1);
        assert.deepEqual(session.respond([second.group], 1).ok, [second.group]);
        await waitTotals(session, (t) => t.answered === 2, 'both answered');
        await settle(session);
        assertAnsweredOnce(batches, [first.group, second.group]);
      }),
  },
  {
    name: 'across sessions: a group of a closed session is stale in the next one, whatever its cookie',
    async run(open) {
      const one = startSession(open);
      one.session.inject(injectSpec({ count: 5 }));
      await waitTotals(one.session, (t) => t.pending === 5, '5 pending in the first session');
      const old = one.session.pending();
      await one.session.close();
      const two = startSession(open);
      try {
        two.session.inject(injectSpec({ count: 5, addr: '0x7000000' }));
        await waitTotals(two.session, (t) => t.pending === 5, '5 pending in the second session');
        const now = two.session.pending();
        assert.deepEqual(
          now.map((g) => g.cookie).sort(),
          old.map((g) => g.cookie).sort(),
          'the same cookies again',
        );
        const r = two.session.respond([old[2]!.group], 0);
        assert.deepEqual(r.ok, []);
        assert.equal(r.failed[0]?.code, 'ESTALE');
        assert.equal(two.session.totals().answered, 0, 'no group of the second session answered');
        assert.equal(two.session.totals().pending, 5);
      } finally {
        await two.session.close();
      }
    },
  },
  {
    name: 'bad response code: refused, nothing answered, the group stays pending',
    run: (open) =>
      withSession(open, async ({ session }) => {
        session.inject(injectSpec({ count: 1 }));
        await waitTotals(session, (t) => t.pending === 1, '1 pending');
        const group = session.pending()[0]!.group;
        let refused: boolean;
        try {
          const r = session.respond([group], 2 as 0 | 1);
          refused = r.ok.length === 0 && r.failed.length === 1;
        } catch (err) {
          refused =
            (err as { code?: string }).code === 'EARG' ||
            (err as { code?: string }).code === 'EINVAL';
        }
        assert.ok(refused, 'code 2 is refused');
        assert.equal(session.totals().pending, 1);
        assert.equal(session.totals().answered, 0);
        assert.deepEqual(session.respond([group], 1).ok, [group]);
      }),
  },
  {
    name: 'detach with pending groups: answered INVALID on the kernel side, once',
    async run(open) {
      const { session, batches } = startSession(open);
      try {
        session.inject(injectSpec({ count: 2 }));
        await waitTotals(session, (t) => t.pending === 2, '2 pending');
        const groups = session.pending().map((g) => g.group);
        assert.ok(session.detach() >= 2);
        const t = await waitTotals(session, (x) => x.pending === 0, 'nothing pending after detach');
        assert.equal(t.invalid, 2);
        await settle(session);
        assertAnsweredOnce(batches, groups);
        assert.ok(
          answeredIn(batches).every((a) => a.by === 3 && a.code === 1),
          'by kernel, INVALID',
        );
        assert.equal(session.respond(groups, 0).ok.length, 0, 'stale after detach');
      } finally {
        const s = await session.close();
        assert.equal(s.pending, 0);
        assert.equal(s.by.drain, 0, 'the drain found nothing left');
      }
    },
  },
  {
    name: 'close with pending groups drains them exactly once with the chosen code',
    async run(open) {
      const { session, batches } = startSession(open);
      session.inject(injectSpec({ count: 5 }));
      await waitTotals(session, (t) => t.pending === 5, '5 pending');
      const groups = session.pending().map((g) => g.group);
      const [s, again] = await Promise.all([session.close({ drainCode: 0 }), session.close()]);
      assert.equal(s, again, 'close is idempotent');
      assert.equal(s.pending, 0);
      assert.equal(s.success, 5);
      assert.equal(s.by.drain, 5);
      assert.deepEqual(s.teardownErrors, []);
      assertAnsweredOnce(batches, groups);
    },
  },
  {
    name: 'policy success answers natively; latencies reported',
    run: (open) =>
      withSession(
        open,
        { rules: [], fallback: { kind: 'success' } },
        async ({ session, batches }) => {
          session.inject(injectSpec({ count: 50 }));
          await waitTotals(session, (t) => t.answered === 50, '50 answered');
          await settle(session);
          const answered = answeredIn(batches);
          assert.equal(answered.length, 50);
          assert.ok(answered.every((a) => a.by === 1 && a.code === 0));
          const lat = batches.flatMap((b) => Array.from(b.answered.latencyNs));
          assert.ok(
            lat.every((ns) => ns >= 0 && ns < 10e9),
            'latencies are plausible',
          );
          assertAnsweredOnce(batches, groupsRead(batches));
        },
      ),
  },
  {
    name: 'policy rules: first match wins, by PASID range',
    async run(open) {
      const policy: PolicySpec = {
        rules: [{ match: parseFilter('pasid == 2'), action: { kind: 'invalid' } }],
        fallback: { kind: 'success' },
      };
      const { session, batches } = startSession(open, policy);
      try {
        session.inject(injectSpec({ count: 4, pasidMin: 1, pasidMax: 2 }));
        const t = await waitTotals(session, (x) => x.answered === 4, '4 answered');
        assert.equal(t.success, 2);
        assert.equal(t.invalid, 2);
        await settle(session);
        const rules = batches.flatMap((b) => Array.from(b.answered.rule)).sort();
        assert.deepEqual(rules, [-1, -1, 0, 0]);
      } finally {
        await session.close();
      }
    },
  },
  {
    name: 'empty queue: no faults, no pending, nothing answered',
    async run(open) {
      const { session, batches } = startSession(open);
      try {
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(session.totals().faults, 0);
        assert.deepEqual(session.pending(), []);
        assert.equal(faultCookies(batches).length, 0);
        assert.equal(session.drain(1), 0);
      } finally {
        const s = await session.close();
        assert.equal(s.answered, 0);
      }
    },
  },
  {
    name: 'multi-page groups: one cookie per group, LAST_PAGE on the last page only',
    simOnly: 'TRIGGER_IOPF makes one single-page group per request',
    run: (open) =>
      withSession(open, async ({ session, batches }) => {
        session.inject(injectSpec({ count: 8, groupPages: 4 }));
        const t = await waitTotals(
          session,
          (x) => x.faults === 8 && x.pending === 2,
          '2 groups of 4',
        );
        assert.equal(t.groups, 2);
        const groups = session.pending();
        for (const g of groups) {
          assert.equal(g.pages.length, 4);
          assert.deepEqual(
            g.pages.map((p) => Boolean(p.flags & FaultFlag.LastPage)),
            [false, false, false, true],
          );
        }
        assert.equal(session.drain(0), 2);
        await waitTotals(session, (x) => x.answered === 2, '2 answered');
        await settle(session);
        assertAnsweredOnce(
          batches,
          groups.map((g) => g.group),
        );
      }),
  },
];
