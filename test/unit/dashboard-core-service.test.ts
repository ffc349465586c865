// CoreService on the native simulator, driven through the same dispatch the
// transports use: open, inject, respond (and a stale cookie), drain with a
// filter, policy.set, resync, and session.close draining everything once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  EventEnvelope,
  Frame,
  RequestName,
  RequestParams,
  RequestResult,
  ResponseEnvelope,
  SessionState,
} from '../../main/common/contract';
import type { HostTopology, TopologyUpdate } from '../../main/common/host-topology';
import {
  CoreService,
  type CoreServiceOptions,
  type HostFeed,
} from '../../main/node/dashboard/core-service';
import { dispatch, type RequestContext } from '../../main/node/dashboard/dispatch';
import { until } from '../shared/until';
import { addonSkipReason } from './addon-available';

const topology: HostTopology = {
  schema: 1,
  sysfsRoot: '/fixture',
  takenAt: 0,
  scanMs: 0,
  units: [],
  groups: [],
  devices: [],
  problems: [],
};

/** A host feed that never touches /sys; `push` plays a topology change. */
function fakeHost(): HostFeed & { push(u: TopologyUpdate): void } {
  const fns = new Set<(u: TopologyUpdate) => void>();
  let current: HostTopology | undefined;
  return {
    start: async () => (current = topology),
    get topology() {
      return current;
    },
    onUpdate: (fn) => (fns.add(fn), () => fns.delete(fn)),
    onError: () => () => {},
    stop: () => {},
    push: (u) => fns.forEach((fn) => fn(u)),
  };
}

function harness(extra: Partial<CoreServiceOptions> = {}) {
  const host = fakeHost();
  const core = new CoreService({
    ...extra,
    version: 'test',
    mode: 'browser',
    host,
    appInfo: () => ({
      version: 'test',
      mode: 'browser',
      iommuProblem: 'none here',
      mockAvailable: false,
      vfioDevices: [],
    }),
  });
  const broadcast: EventEnvelope[] = [];
  core.subscribe((e) => broadcast.push(e));
  const direct: EventEnvelope[] = [];
  const ctx: RequestContext = {
    client: 'test',
    emit: (event, payload) => direct.push({ event, payload }),
  };
  let id = 1;
  const raw = (method: string, params?: unknown): Promise<ResponseEnvelope> =>
    dispatch(core.handlers, { id: id++, method, ...(params !== undefined ? { params } : {}) }, ctx);
  async function call<N extends RequestName>(
    method: N,
    params: RequestParams<N>,
  ): Promise<RequestResult<N>> {
    const r = await raw(method, params);
    if (!r.ok) throw new Error(`${method}: [${r.error.code}] ${r.error.message}`);
    return r.result as RequestResult<N>;
  }
  return { core, host, broadcast, direct, raw, call };
}

const skip = addonSkipReason();

test(
  'sim session: inject, respond, stale cookie, filtered drain, policy, resync, close',
  { skip },
  async () => {
    const { core, broadcast, direct, raw, call } = harness();
    try {
      // Step: no session yet: session-bound requests say how to fix it.
      const noSession = await raw('faults.respond', { cookies: [1], code: 0 });
      assert.equal(noSession.ok, false);
      assert.equal(!noSession.ok && noSession.error.code, 'ENOSESSION');
      assert.deepEqual(await call('faults.query', { offset: 0, limit: 10 }), {
        total: 0,
        rows: [],
      });
      assert.equal(await call('topology.objects', {}), null);

      // Step: open sim with the default policy (hold) and inject 2 devices × 4 PASIDs, 2-page groups.
      const opened = await call('session.open', { source: 'sim' });
      assert.equal(opened.source, 'sim');
      assert.equal(opened.policy, 'hold');
      assert.equal(opened.canInject, true);
      const busy = await raw('session.open', { source: 'sim' });
      assert.equal(!busy.ok && busy.error.code, 'EBUSY', 'a second open is refused');
      await call('inject.start', { spec: 'count=80,devices=2,pasids=1-4,group=2' });
      const all = await until('40 groups in the log', async () => {
        const q = await call('faults.query', { offset: 0, limit: 1000 });
        return q.total === 40 ? q : undefined;
      });
      assert.ok(all.rows.every((r) => r.state === 'pending' && r.pages === 2));
      const objects = await call('topology.objects', {});
      assert.ok(objects && objects.nodes.some((n) => n.key === 'dev:2'));

      // Step: respond to three groups; answering one of them again is a stale cookie.
      const three = all.rows.slice(0, 3).map((r) => r.cookie);
      const ok = await call('faults.respond', { cookies: three, code: 0 });
      assert.deepEqual(ok.ok.sort(), [...three].sort());
      assert.deepEqual(ok.failed, []);
      const stale = await call('faults.respond', { cookies: [three[0]!], code: 1 });
      assert.deepEqual(stale.ok, []);
      assert.equal(stale.failed[0]!.cookie, three[0]);
      assert.equal(stale.failed[0]!.code, 'ESTALE');
      await until('the answers reach the log', async () => {
        const q = await call('faults.query', {
          offset: 0,
          limit: 10,
          filter: { state: 'success' },
        });
        return q.total === 3 ? q : undefined;
      });
      const detail = await call('faults.detail', { cookie: three[1]! });
      assert.equal(detail!.row.by, 'user');
      assert.equal(detail!.pages.length, 2);

      // Step: drain only device 1 as invalid; device 2 stays pending.
      const pendingDev1 = (
        await call('faults.query', {
          offset: 0,
          limit: 1000,
          filter: { devId: 1, state: 'pending' },
        })
      ).total;
      const drained = await call('faults.drain', { code: 1, filter: { devId: 1 } });
      assert.equal(drained.answered, pendingDev1);
      await until(
        'device 1 drained',
        async () =>
          (
            await call('faults.query', {
              offset: 0,
              limit: 1,
              filter: { devId: 1, state: 'pending' },
            })
          ).total === 0 || undefined,
      );
      const dev2Pending = (
        await call('faults.query', { offset: 0, limit: 1, filter: { devId: 2, state: 'pending' } })
      ).total;
      assert.ok(dev2Pending > 0);
      // A filtered drain is the drain's answer, not the user's.
      const dev1Rows = await call('faults.query', {
        offset: 0,
        limit: 1000,
        filter: { devId: 1, state: 'invalid' },
      });
      assert.equal(dev1Rows.total, pendingDev1);
      assert.ok(dev1Rows.rows.every((r) => r.by === 'drain'));

      // Step: policy.set success answers new groups natively; a bad policy names the problem.
      const bad = await raw('policy.set', { spec: 'sometimes' });
      assert.equal(!bad.ok && bad.error.code, 'EGRAMMAR');
      assert.match(!bad.ok ? bad.error.message : '', /unknown action 'sometimes'/);
      const fileForm = await raw('policy.set', { spec: '@/etc/passwd' });
      assert.equal(fileForm.ok, false, 'no files named over the contract');
      const st = await call('policy.set', {
        spec: '{"rules":[{"dev":1,"action":"success"}],"default":"invalid"}',
      });
      assert.equal(st.policy, '{"rules":[{"dev":1,"action":"success"}],"default":"invalid"}');
      const successDev1 = async () =>
        (
          await call('faults.query', {
            offset: 0,
            limit: 1,
            filter: { state: 'success', devId: 1 },
          })
        ).total;
      const before1 = await successDev1();
      await call('inject.start', { spec: 'count=10,devices=1' });
      await until('policy answers', async () =>
        (await successDev1()) === before1 + 10 ? true : undefined,
      );
      const byPolicy = await call('faults.query', {
        offset: 0,
        limit: 1000,
        filter: { devId: 1, state: 'success' },
      });
      assert.equal(byPolicy.rows.filter((r) => r.by === 'policy').length, 10);

      // Step: frames were broadcast, never more than the coalescing allows, with charts now and then.
      const frames = await until('a frame with charts', () => {
        const fs = broadcast.filter((e) => e.event === 'frame').map((e) => e.payload as Frame);
        return fs.some((f) => f.rates) && fs.at(-1)!.totals.faults === 90 ? fs : undefined;
      });
      const last = frames.at(-1)!;
      assert.equal(last.answeredByUser, 3);
      assert.equal(last.answeredByDrain, pendingDev1, 'the filtered drain is credited to drain');
      assert.ok(last.newest.length > 0 && last.newest.length <= 20);
      assert.ok(frames.every((f, i) => i === 0 || f.seq > frames[i - 1]!.seq));

      // Step: resync sends everything again to the asking client only.
      const before = broadcast.length;
      assert.deepEqual(await call('stream.resync', {}), { ok: true });
      assert.deepEqual(
        direct.map((e) => e.event),
        ['session.changed', 'topology.changed', 'frame'],
      );
      assert.ok((direct[2]!.payload as Frame).rates, 'the resync frame has charts');
      assert.ok(broadcast.length - before <= 2, 'resync is not broadcast (a frame may coincide)');

      // Step: close drains the rest exactly once with the drain code (success here).
      await call('session.setDrainCode', { code: 0 });
      const remaining = core.pendingCount();
      assert.equal(remaining, dev2Pending);
      const closed = await call('session.close', {});
      assert.equal(closed.source, null);
      assert.equal(closed.drainCode, 0);
      const summary = core.lastSessionSummary!;
      assert.equal(summary.pending, 0);
      assert.equal(summary.answered, summary.groups, 'every group answered');
      assert.equal(summary.success + summary.invalid, summary.groups, 'and only once');
      assert.equal(summary.by.drain, pendingDev1 + remaining);
      assert.equal(summary.by.user, 3);
      // The log stays browsable after the session.
      const after = await call('faults.query', {
        offset: 0,
        limit: 1,
        filter: { state: 'pending' },
      });
      assert.equal(after.total, 0);
      assert.ok(
        broadcast.some(
          (e) => e.event === 'session.changed' && (e.payload as SessionState).source === null,
        ),
      );
    } finally {
      await core.close();
    }
  },
);

test(
  'answers lost to an answered-list overflow settle the log: no row stays pending forever',
  { skip },
  async () => {
    // The native queue delivers at most max(jsBufferRecords, 65536) answers
    // per flush; a drain of more in one call leaves the rest out (answeredOverflow).
    const groups = 70_000;
    const lost = groups - 65_536;
    // The simulated devices' PRI credit (default 512) must let them all be held.
    const { core, broadcast, call } = harness({
      sessionDefaults: { jsBufferRecords: 65_536, outstandingLimit: groups },
    });
    try {
      // Step: hold 70000 one-page groups, in two halves so every record reaches the log.
      await call('session.open', { source: 'sim', policy: 'hold' });
      for (const half of [1, 2]) {
        await call('inject.start', { spec: `count=${groups / 2}` });
        await until(
          `half ${half} in the log`,
          async () =>
            (await call('faults.query', { offset: 0, limit: 1, filter: { state: 'pending' } }))
              .total ===
              (groups / 2) * half || undefined,
          20_000,
        );
      }
      // Step: drain them all at once: the answers of the last groups are not delivered.
      assert.equal((await call('faults.drain', { code: 1 })).answered, groups);
      await until(
        'nothing pending in the log',
        async () =>
          (await call('faults.query', { offset: 0, limit: 1, filter: { state: 'pending' } }))
            .total === 0 || undefined,
      );
      // Step: those rows say answered (code unknown), the rest say invalid by drain.
      const settled = await call('faults.query', {
        offset: 0,
        limit: 1000,
        filter: { state: 'answered' },
      });
      assert.equal(settled.total, lost);
      assert.ok(settled.rows.every((r) => r.by === null && r.latencyUs === null));
      const invalid = await call('faults.query', {
        offset: 0,
        limit: 1,
        filter: { state: 'invalid' },
      });
      assert.equal(invalid.total, 65_536);
      assert.equal(invalid.rows[0]!.by, 'drain');
      await until('a frame counts them', () => {
        const f = broadcast.filter((e) => e.event === 'frame').at(-1)?.payload as Frame;
        return f?.answeredUnknown === lost && f.totals.pending === 0 ? f : undefined;
      });
    } finally {
      await core.close();
    }
  },
);

test('host.snapshot and host.changed come from the host feed', { skip }, async () => {
  const { core, host, broadcast, call } = harness();
  try {
    assert.equal((await call('host.snapshot', {})).sysfsRoot, '/fixture');
    host.push({ seq: 1, changes: [{ kind: 'added', entity: 'group', id: 3 }], topology });
    const ev = broadcast.find((e) => e.event === 'host.changed');
    assert.equal((ev!.payload as TopologyUpdate).changes[0]!.id, 3);
    assert.equal((await call('app.info', {})).iommuProblem, 'none here');
  } finally {
    await core.close();
  }
});

test(
  'core.close with a session open drains it; the core refuses new sessions after',
  { skip },
  async () => {
    const { core, raw, call } = harness();
    await call('session.open', { source: 'sim', policy: 'hold' });
    await call('inject.start', { spec: 'count=25' });
    await until('25 pending', () => (core.pendingCount() === 25 ? true : undefined));
    await core.close();
    assert.equal(core.lastSessionSummary!.pending, 0);
    assert.equal(core.lastSessionSummary!.by.drain, 25);
    assert.equal(core.lastSessionSummary!.invalid, 25, 'the default drain code is INVALID');
    const late = await raw('session.open', { source: 'sim' });
    assert.equal(!late.ok && late.error.code, 'ECLOSING');
  },
);
