// CoreService on the simulator (the native one, and the TypeScript fake of
// the queue contract), driven through the same dispatch the transports use:
// open, inject, respond (and stale answers, across sessions and after cookie
// reuse), two clients racing, drain with a filter, 20,000 held groups all
// visible, policy.set, resync, and session.close draining everything once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEnvelope, Frame, SessionState } from '../../main/common/contract';
import type { HostTopology, TopologyUpdate } from '../../main/common/host-topology';
import {
  CoreService,
  type CoreServiceOptions,
  type HostFeed,
} from '../../main/node/dashboard/core-service';
import type { NativeAddon } from '../../main/node/native/addon-types';
import { until } from '../shared/until';
import { fakeSimAddon } from '../shared/fake-fault-queue';
import { addonSkipReason, tryLoadAddon } from './addon-available';
import { coreClient, EMPTY_TOPOLOGY } from '../shared/core-client';

/** A host feed that never touches /sys; `push` plays a topology change. */
function fakeHost(): HostFeed & { push(u: TopologyUpdate): void } {
  const fns = new Set<(u: TopologyUpdate) => void>();
  let current: HostTopology | undefined;
  return {
    start: async () => (current = EMPTY_TOPOLOGY),
    get topology() {
      return current;
    },
    onUpdate: (fn) => (fns.add(fn), () => fns.delete(fn)),
    onError: () => () => {},
    stop: () => {},
    push: (u) => fns.forEach((fn) => fn(u)),
  };
}

function harness(addon: NativeAddon, extra: Partial<CoreServiceOptions> = {}) {
  const host = fakeHost();
  const core = new CoreService({
    ...extra,
    sessionDefaults: { ...extra.sessionDefaults, addon },
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
  /** A client of the core: its own request context (as one WebSocket or window is). */
  const client = (name: string) =>
    coreClient(core, name, (event, payload) => direct.push({ event, payload } as EventEnvelope));
  return { core, host, broadcast, direct, client, ...client('test') };
}

/** Each test runs on the native simulator (when the built addon has the contract) and on the TS fake. */
const backends: { name: string; skip: string | undefined; addon: () => NativeAddon }[] = [
  { name: 'sim', skip: addonSkipReason(), addon: () => tryLoadAddon()! },
  { name: 'fake sim', skip: undefined, addon: () => fakeSimAddon() },
];

for (const backend of backends) {
  const { skip } = backend;
  const harnessOn = (extra: Partial<CoreServiceOptions> = {}) => harness(backend.addon(), extra);

  test(
    `${backend.name} session: inject, respond, stale answer, filtered drain, policy, resync, close`,
    { skip },
    async () => {
      const { core, broadcast, direct, raw, call } = harnessOn();
      try {
        // Step: no session yet: session-bound requests say how to fix it.
        const noSession = await raw('faults.respond', { groups: ['1'], code: 0 });
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

        // Step: respond to three groups; answering one of them again is stale.
        const three = all.rows.slice(0, 3).map((r) => r.group);
        const ok = await call('faults.respond', { groups: three, code: 0 });
        assert.deepEqual(ok.ok.sort(), [...three].sort());
        assert.deepEqual(ok.failed, []);
        const stale = await call('faults.respond', { groups: [three[0]!], code: 1 });
        assert.deepEqual(stale.ok, []);
        assert.equal(stale.failed[0]!.group, three[0]);
        assert.equal(stale.failed[0]!.code, 'ESTALE');
        assert.equal(stale.failed[0]!.answeredBy, 'user');
        assert.match(
          stale.failed[0]!.message,
          new RegExp(
            `group ${three[0]} is no longer pending: answered success by user at \\d+:\\d\\d\\.\\d{3}`,
          ),
        );
        // Negative: malformed group ids are refused by the schema, naming the field.
        const badId = await raw('faults.respond', { groups: ['0x10'], code: 0 });
        assert.equal(!badId.ok && badId.error.code, 'EPARAMS');
        assert.match(!badId.ok ? badId.error.message : '', /groups\[0\]/);
        const tooBig = await call('faults.respond', { groups: ['99999999999999999999'], code: 0 });
        assert.equal(tooBig.failed[0]!.code, 'ESTALE', 'a group number no reader can reach');
        await until('the answers reach the log', async () => {
          const q = await call('faults.query', {
            offset: 0,
            limit: 10,
            filter: { state: 'success' },
          });
          return q.total === 3 ? q : undefined;
        });
        const detail = await call('faults.detail', { group: three[1]! });
        assert.equal(detail!.row.group, three[1]);
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
          await call('faults.query', {
            offset: 0,
            limit: 1,
            filter: { devId: 2, state: 'pending' },
          })
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
        // Shown in the filter language (the older keys are accepted, the canonical form is "match").
        assert.equal(
          st.policy,
          '{"rules":[{"match":"dev == 1","action":"success"}],"default":"invalid"}',
        );
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
          ['session.changed', 'topology.changed', 'frame', 'vevent.frame'],
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
    `${backend.name}: a stale answer, across sessions and after cookie reuse, is refused (ESTALE) and never answers another group`,
    { skip },
    async () => {
      const { core, call } = harnessOn();
      try {
        // Step: session one holds 5 groups; note the group with cookie 3; close (the drain answers it).
        await call('session.open', { source: 'sim', policy: 'hold' });
        await call('inject.start', { spec: 'count=5' });
        const first = await until('5 rows', async () => {
          const q = await call('faults.query', { offset: 0, limit: 10 });
          return q.total === 5 ? q.rows : undefined;
        });
        const old = first.find((r) => r.cookie === 3)!;
        assert.ok(old, 'cookie 3 was handed out');
        await call('session.close', {});
        // Step: session two, at another address: the same cookies again.
        await call('session.open', { source: 'sim', policy: 'hold' });
        await call('inject.start', { spec: 'count=5,addr=0x9000000' });
        const second = await until('5 new rows', async () => {
          const q = await call('faults.query', { offset: 0, limit: 10 });
          return q.total === 5 ? q.rows : undefined;
        });
        assert.ok(second.some((r) => r.cookie === 3));
        assert.ok(
          second.every((r) => BigInt(r.group) > BigInt(old.group)),
          'group numbers only grow',
        );
        // Step: the old group's answer is refused; nothing of session two is answered.
        const r = await call('faults.respond', { groups: [old.group], code: 0 });
        assert.deepEqual(r.ok, []);
        assert.equal(r.failed[0]!.code, 'ESTALE');
        assert.equal(core.pendingCount(), 5);
        // Step: within session two, answer one group, let its cookie be reused, answer it again.
        const target = second[0]!;
        assert.deepEqual((await call('faults.respond', { groups: [target.group], code: 0 })).ok, [
          target.group,
        ]);
        await call('inject.start', { spec: 'count=1,addr=0xa000000' });
        const reused = await until('the reused cookie', async () => {
          const q = await call('faults.query', {
            offset: 0,
            limit: 10,
            filter: { state: 'pending' },
          });
          return q.rows.find((x) => x.cookie === target.cookie && x.group !== target.group);
        });
        assert.notEqual(reused.group, target.group);
        const again = await call('faults.respond', { groups: [target.group], code: 1 });
        assert.equal(again.failed[0]!.code, 'ESTALE');
        assert.match(again.failed[0]!.message, /answered success by user/);
        const still = await call('faults.detail', { group: reused.group });
        assert.equal(still!.row.state, 'pending', 'the group now holding the cookie is untouched');
        assert.equal(core.pendingCount(), 5);
      } finally {
        await core.close();
      }
      assert.equal(core.lastSessionSummary!.by.user, 1);
    },
  );

  test(
    `${backend.name}: two clients racing on the same groups answer each exactly once`,
    { skip },
    async () => {
      const { core, client, call } = harnessOn();
      try {
        await call('session.open', { source: 'sim', policy: 'hold' });
        await call('inject.start', { spec: 'count=40' });
        const rows = await until('40 rows', async () => {
          const q = await call('faults.query', { offset: 0, limit: 100 });
          return q.total === 40 ? q.rows : undefined;
        });
        const groups = rows.map((r) => r.group);
        const a = client('tab A');
        const b = client('tab B');
        // Both tabs answer overlapping sets at once (one Success, one Invalid).
        const [ra, rb] = await Promise.all([
          a.call('faults.respond', { groups: groups.slice(0, 30), code: 0 }),
          b.call('faults.respond', { groups: [...groups.slice(10, 40)].reverse(), code: 1 }),
        ]);
        const okAll = [...ra.ok, ...rb.ok].sort();
        assert.deepEqual(okAll, [...groups].sort(), 'every group answered by exactly one tab');
        const failed = [...ra.failed, ...rb.failed];
        assert.equal(failed.length, 20, 'the overlap is refused to the slower tab');
        assert.ok(failed.every((f) => f.code === 'ESTALE' && f.answeredBy === 'user'));
        const t = await until('40 answered', () => {
          const x = core.pendingCount();
          return x === 0 ? true : undefined;
        });
        assert.ok(t);
      } finally {
        await core.close();
      }
      const s = core.lastSessionSummary!;
      assert.equal(s.answered, 40);
      assert.equal(s.by.user, 40);
      assert.equal(s.by.drain, 0);
    },
  );

  test(
    `${backend.name}: 20,000 held groups are all visible in the log and drainable by filter`,
    { skip },
    async () => {
      const { core, broadcast, call } = harnessOn({
        logMaxGroups: 4096,
        sessionDefaults: { outstandingLimit: 30_000 },
      });
      try {
        await call('session.open', { source: 'sim', policy: 'hold' });
        await call('inject.start', { spec: 'count=20000,devices=2' });
        await until(
          '20,000 pending rows',
          async () =>
            (await call('faults.query', { offset: 0, limit: 1, filter: { state: 'pending' } }))
              .total === 20_000 || undefined,
          20_000,
        );
        assert.equal(core.pendingCount(), 20_000);
        const tail = await call('faults.query', { offset: 19_999, limit: 10 });
        assert.equal(tail.total, 20_000);
        assert.equal(tail.rows.length, 1);
        // Step: drain device 1: exactly its 10,000 groups, none left pending and invisible.
        const drained = await call('faults.drain', { code: 1, filter: { devId: 1 } });
        assert.equal(drained.answered, 10_000);
        await until(
          'device 1 settled in the log',
          async () =>
            (
              await call('faults.query', {
                offset: 0,
                limit: 1,
                filter: { devId: 1, state: 'pending' },
              })
            ).total === 0 || undefined,
        );
        assert.equal(core.pendingCount(), 10_000);
        const dev2 = await call('faults.query', {
          offset: 0,
          limit: 1,
          filter: { devId: 2, state: 'pending' },
        });
        assert.equal(dev2.total, 10_000);
        // The log keeps every pending row and at most logMaxGroups answered ones.
        const frame = await until('a frame with the drain', () => {
          const f = broadcast.filter((e) => e.event === 'frame').at(-1)?.payload as
            Frame | undefined;
          return f && f.answeredByDrain === 10_000 ? f : undefined;
        });
        assert.equal(frame.logSize, 10_000 + 4096);
        assert.equal(frame.logDropped, 10_000 - 4096);
        assert.equal(frame.totals.pending, 10_000);
      } finally {
        await core.close();
      }
      assert.equal(core.lastSessionSummary!.by.drain, 20_000);
    },
  );

  test(
    `${backend.name}: host.snapshot and host.changed come from the host feed`,
    { skip },
    async () => {
      const { core, host, broadcast, call } = harnessOn();
      try {
        assert.equal((await call('host.snapshot', {})).sysfsRoot, '/fixture');
        host.push({
          seq: 1,
          changes: [{ kind: 'added', entity: 'group', id: 3 }],
          topology: EMPTY_TOPOLOGY,
        });
        const ev = broadcast.find((e) => e.event === 'host.changed');
        assert.equal((ev!.payload as TopologyUpdate).changes[0]!.id, 3);
        assert.equal((await call('app.info', {})).iommuProblem, 'none here');
      } finally {
        await core.close();
      }
    },
  );

  test(
    `${backend.name}: core.close with a session open drains it; the core refuses new sessions after`,
    { skip },
    async () => {
      const { core, raw, call } = harnessOn();
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
}
