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
  await session.nextBatch(100);
  await new Promise((r) => setTimeout(r, 30));
}

function answeredIn(batches: DecodedBatch[]): { cookie: number; code: number; by: number }[] {
  return batches.flatMap((b) =>
    Array.from(b.answered.cookie, (cookie, i) => ({
      cookie,
      code: b.answered.code[i]!,
      by: b.answered.by[i]!,
    })),
  );
}

function faultCookies(batches: DecodedBatch[]): number[] {
  return batches.flatMap((b) => Array.from(b.cookie));
}

function countBy(values: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/**
 * Every group read is answered exactly once. The kernel hands a cookie out
 * again once its group is answered, so compare per cookie: answers == groups
 * read with it (a group is read when its LAST_PAGE record arrives).
 */
function assertAnsweredOnce(batches: DecodedBatch[], cookies: number[]): void {
  const answers = countBy(answeredIn(batches).map((a) => a.cookie));
  const groups = countBy(
    batches.flatMap((b) => Array.from(b.cookie).filter((_, i) => (b.flags[i]! & 2) !== 0)),
  );
  for (const c of new Set(cookies)) {
    const read = groups.get(c) ?? 0;
    assert.ok(read >= 1, `cookie ${c} was never read`);
    assert.equal(
      answers.get(c) ?? 0,
      read,
      `cookie ${c}: ${answers.get(c) ?? 0} answers for ${read} groups`,
    );
  }
}

export const faultSourceCases: FaultSourceCase[] = [
  {
    name: 'inject, read and answer: every request read once, answered once by the user',
    async run(open) {
      const { session, batches } = startSession(open);
      try {
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
          pending.map((g) => g.cookie),
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
          pending.map((g) => g.cookie),
        );
        assert.deepEqual(faultCookies(batches).sort(), pending.map((g) => g.cookie).sort());
      } finally {
        await session.close();
      }
    },
  },
  {
    name: 'drain answers every pending group with the given code, once',
    async run(open) {
      const { session, batches } = startSession(open);
      try {
        session.inject(injectSpec({ count: 3 }));
        await waitTotals(session, (t) => t.pending === 3, '3 pending');
        const cookies = session.pending().map((g) => g.cookie);
        assert.equal(session.drain(1), 3);
        assert.equal(session.drain(1), 0, 'a second drain finds nothing');
        const t = await waitTotals(session, (x) => x.answered === 3, '3 answered');
        assert.equal(t.invalid, 3);
        await settle(session);
        assertAnsweredOnce(batches, cookies);
        assert.ok(
          answeredIn(batches).every((a) => a.by === 2 && a.code === 1),
          'by drain, INVALID',
        );
      } finally {
        await session.close();
      }
    },
  },
  {
    name: 'filtered drain: a filter-language match answers only the pending groups it selects',
    async run(open) {
      const { session } = startSession(open);
      try {
        session.inject(injectSpec({ count: 6, pasidMin: 1, pasidMax: 3, perm: 3 }));
        await waitTotals(session, (t) => t.pending === 6, '6 pending');
        assert.equal(session.drain(1, { match: parseFilter('pasid == 2 || pasid == 9') }), 2);
        assert.equal(session.drain(1, { match: parseFilter('perm.x') }), 0, 'none requests exec');
        const left = session.pending();
        assert.deepEqual(
          left.map((g) => g.pasid),
          [1, 3, 1, 3],
        );
        // The match and the cookies must both hold.
        const cookie = left[0]!.cookie;
        assert.equal(session.drain(1, { match: parseFilter('pasid == 1'), cookies: [cookie] }), 1);
        assert.equal(session.drain(0, { pasidMin: 3, pasidMax: 3 }), 2, 'the older form');
        assert.deepEqual(
          session.pending().map((g) => g.pasid),
          [1],
        );
      } finally {
        await session.close();
      }
    },
  },
  {
    name: 'wrong cookie: reported as failed, not thrown; the real group stays pending',
    async run(open) {
      const { session } = startSession(open);
      try {
        session.inject(injectSpec({ count: 1 }));
        await waitTotals(session, (t) => t.pending === 1, '1 pending');
        const cookie = session.pending()[0]!.cookie;
        const r = session.respond([cookie + 1000], 0);
        assert.deepEqual(r.ok, []);
        assert.equal(r.failed.length, 1);
        assert.equal(r.failed[0]!.cookie, cookie + 1000);
        assert.equal(r.failed[0]!.code, 'ESTALE');
        assert.equal(session.totals().pending, 1);
        assert.deepEqual(session.respond([cookie], 0).ok, [cookie]);
        const again = session.respond([cookie], 0);
        assert.equal(again.failed[0]?.code, 'ESTALE', 'answering twice is refused');
      } finally {
        await session.close();
      }
    },
  },
  {
    name: 'bad response code: refused, nothing answered, the group stays pending',
    async run(open) {
      const { session } = startSession(open);
      try {
        session.inject(injectSpec({ count: 1 }));
        await waitTotals(session, (t) => t.pending === 1, '1 pending');
        const cookie = session.pending()[0]!.cookie;
        let refused = false;
        try {
          const r = session.respond([cookie], 2 as 0 | 1);
          refused = r.ok.length === 0 && r.failed.length === 1;
        } catch (err) {
          refused =
            (err as { code?: string }).code === 'EARG' ||
            (err as { code?: string }).code === 'EINVAL';
        }
        assert.ok(refused, 'code 2 is refused');
        assert.equal(session.totals().pending, 1);
        assert.equal(session.totals().answered, 0);
        assert.deepEqual(session.respond([cookie], 1).ok, [cookie]);
      } finally {
        await session.close();
      }
    },
  },
  {
    name: 'detach with pending groups: answered INVALID on the kernel side, once',
    async run(open) {
      const { session, batches } = startSession(open);
      try {
        session.inject(injectSpec({ count: 2 }));
        await waitTotals(session, (t) => t.pending === 2, '2 pending');
        const cookies = session.pending().map((g) => g.cookie);
        assert.ok(session.detach() >= 2);
        const t = await waitTotals(session, (x) => x.pending === 0, 'nothing pending after detach');
        assert.equal(t.invalid, 2);
        await settle(session);
        assertAnsweredOnce(batches, cookies);
        assert.ok(
          answeredIn(batches).every((a) => a.by === 3 && a.code === 1),
          'by kernel, INVALID',
        );
        assert.equal(session.respond(cookies, 0).ok.length, 0, 'stale after detach');
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
      const cookies = session.pending().map((g) => g.cookie);
      const [s, again] = await Promise.all([session.close({ drainCode: 0 }), session.close()]);
      assert.equal(s, again, 'close is idempotent');
      assert.equal(s.pending, 0);
      assert.equal(s.success, 5);
      assert.equal(s.by.drain, 5);
      assert.deepEqual(s.teardownErrors, []);
      assertAnsweredOnce(batches, cookies);
    },
  },
  {
    name: 'policy success answers natively; latencies reported',
    async run(open) {
      const { session, batches } = startSession(open, { rules: [], fallback: { kind: 'success' } });
      try {
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
        assertAnsweredOnce(batches, faultCookies(batches));
      } finally {
        await session.close();
      }
    },
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
    async run(open) {
      const { session, batches } = startSession(open);
      try {
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
          groups.map((g) => g.cookie),
        );
      } finally {
        await session.close();
      }
    },
  },
];
