import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { FaultMetrics } from '../../main/node/metrics/fault-metrics';
import { TopologyMetrics } from '../../main/node/metrics/topology-metrics';
import { serveMetrics } from '../../main/node/metrics/metrics-route';
import { scanTopology } from '../../main/node/topology/scan';
import type { QueueTotals } from '../../main/node/native/addon-types';
import { ContractQueue } from '../shared/contract-batches';
import { promtoolCheck, samples, sum, type Sample } from '../shared/exposition';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');

async function expose(m: FaultMetrics, t: { skip: (why: string) => void }): Promise<Sample[]> {
  const text = await m.metrics();
  const verdict = promtoolCheck(text);
  if ('skip' in verdict) t.skip(verdict.skip);
  else assert.equal(verdict.status, 0, `promtool check metrics:\n${verdict.output}`);
  return samples(text);
}

/** `lateAnswers`: answers made before the metrics saw the queue (their code is "unknown"). */
function assertMatchesTotals(s: Sample[], t: QueueTotals, lateAnswers = 0): void {
  assert.equal(sum(s, 'iommuscope_page_requests_total'), t.faults);
  assert.equal(sum(s, 'iommuscope_groups_read_total'), t.groups);
  assert.equal(sum(s, 'iommuscope_groups_answered_total'), t.answered);
  const known =
    sum(s, 'iommuscope_groups_answered_total', { code: 'success' }) +
    sum(s, 'iommuscope_groups_answered_total', { code: 'invalid' });
  assert.equal(sum(s, 'iommuscope_groups_answered_total', { code: 'unknown' }), lateAnswers);
  if (!lateAnswers) {
    assert.equal(sum(s, 'iommuscope_groups_answered_total', { code: 'success' }), t.success);
    assert.equal(sum(s, 'iommuscope_groups_answered_total', { code: 'invalid' }), t.invalid);
  } else assert.equal(known, t.answered - lateAnswers);
  assert.equal(sum(s, 'iommuscope_groups_answered_total', { by: 'user' }), t.byUser);
  assert.equal(sum(s, 'iommuscope_groups_answered_total', { by: 'policy' }), t.byPolicy);
  assert.equal(sum(s, 'iommuscope_groups_answered_total', { by: 'drain' }), t.byDrain);
  assert.equal(sum(s, 'iommuscope_groups_answered_total', { by: 'kernel' }), t.byKernel);
  assert.equal(sum(s, 'iommuscope_groups_pending'), t.pending);
  assert.equal(sum(s, 'iommuscope_overflow_total'), t.overflow);
  assert.equal(sum(s, 'iommuscope_errors_total'), t.errors);
  assert.equal(sum(s, 'iommuscope_answer_latency_seconds_count'), t.answered - lateAnswers);
}

test('promtool: a broken exposition is refused (the check can fail)', (t) => {
  const verdict = promtoolCheck('# TYPE x counter\nx{a="1" 2\n');
  if ('skip' in verdict) return t.skip(verdict.skip);
  assert.notEqual(verdict.status, 0);
});

test('metrics: counters equal the queue totals fed in, per device/PASID and by answerer × code', async (t) => {
  const m = new FaultMetrics();
  const q = new ContractQueue(1);
  const a = q.read({ pages: 3, devId: 2, pasid: 7 });
  const b = q.read({ pages: 1, devId: 2, pasid: null });
  q.answer({ group: a, code: 0, by: 1, latencyNs: 4000 });
  m.observe(q.flush());
  q.answer({ group: b, code: 1, by: 0, latencyNs: 2e9 });
  q.error({ group: null, cookie: null, code: 'EIO', errno: 5, op: 'read', message: 'x' });
  const last = q.flush();
  m.observe(last);
  const s = await expose(m, t);
  assertMatchesTotals(s, last.totals);
  assert.equal(sum(s, 'iommuscope_page_requests_total', { dev: '2', pasid: '7' }), 3);
  assert.equal(sum(s, 'iommuscope_page_requests_total', { dev: '2', pasid: 'none' }), 1);
  assert.equal(sum(s, 'iommuscope_groups_answered_total', { by: 'user', code: 'invalid' }), 1);
  assert.equal(
    sum(s, 'iommuscope_answer_latency_seconds_bucket', { by: 'policy', le: '0.000005' }),
    1,
  );
  assert.equal(sum(s, 'iommuscope_answer_latency_seconds_bucket', { by: 'user', le: '1' }), 0);
  assert.equal(sum(s, 'iommuscope_answer_latency_seconds_bucket', { by: 'user', le: '10' }), 1);
});

test('metrics: labelled series always sum to the totals (property over random sessions)', async () => {
  const step = fc.oneof(
    fc.record({
      op: fc.constant('read' as const),
      pages: fc.integer({ min: 1, max: 4 }),
      dev: fc.integer({ min: 1, max: 3 }),
      pasid: fc.option(fc.integer({ min: 0, max: 5 })),
      leaveOut: fc.boolean(),
    }),
    fc.record({
      op: fc.constant('answer' as const),
      pick: fc.nat(),
      code: fc.constantFrom(0 as const, 1 as const),
      by: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
    }),
    fc.record({ op: fc.constant('flush' as const) }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { maxLength: 80 }),
      fc.integer({ min: 1, max: 8 }),
      async (steps, maxSeries) => {
        const m = new FaultMetrics({ maxSeries });
        const q = new ContractQueue(1);
        for (const st of steps) {
          if (st.op === 'read') {
            const g = q.read({
              pages: st.pages,
              devId: st.dev,
              pasid: st.pasid,
              leaveOut: st.leaveOut,
            });
            // The native cap only leaves out records of groups answered automatically in the same flush.
            if (st.leaveOut) q.answer({ group: g, code: 0, by: 1 });
          } else if (st.op === 'answer') {
            const p = q.pendingGroups();
            if (p.length) q.answer({ group: p[st.pick % p.length]!, code: st.code, by: st.by });
          } else m.observe(q.flush());
        }
        const last = q.flush();
        m.observe(last);
        const s = samples(await m.metrics());
        assertMatchesTotals(s, last.totals);
        const pairs = new Set(
          s
            .filter((x) => x.name === 'iommuscope_page_requests_total')
            .map((x) => `${x.labels.dev}/${x.labels.pasid}`),
        );
        pairs.delete('unknown/unknown');
        pairs.delete('other/other');
        assert.ok(pairs.size <= maxSeries, `${pairs.size} series > cap ${maxSeries}`);
      },
    ),
    { numRuns: 80 },
  );
});

test('metrics: records left out count under dev="unknown"; past the cap pairs fold into "other" and are counted', async (t) => {
  const m = new FaultMetrics({ maxSeries: 2 });
  const q = new ContractQueue(1);
  for (let p = 1; p <= 4; p++) q.answer({ group: q.read({ pages: 1, pasid: p }), code: 0, by: 1 });
  q.answer({ group: q.read({ pages: 5, leaveOut: true }), code: 0, by: 1 });
  const b = q.flush();
  m.observe(b);
  const s = await expose(m, t);
  assertMatchesTotals(s, b.totals);
  assert.equal(sum(s, 'iommuscope_page_requests_total', { dev: 'unknown' }), 5);
  assert.equal(sum(s, 'iommuscope_page_requests_total', { dev: 'other', pasid: 'other' }), 2);
  assert.equal(sum(s, 'iommuscope_series_folded_groups_total'), 2);
  assert.equal(sum(s, 'iommuscope_overflow_total'), 5);
});

test('metrics: a queue first seen mid-session: exact totals, earlier answers under code="unknown", no made-up pairs', async (t) => {
  const q = new ContractQueue(3);
  for (let i = 0; i < 5; i++) q.answer({ group: q.read({ pages: 2 }), code: 1, by: 2 });
  q.flush(); // before the metrics were attached
  const m = new FaultMetrics();
  q.answer({ group: q.read({ pages: 1 }), code: 0, by: 1 });
  const b = q.flush();
  m.observe(b);
  const s = await expose(m, t);
  assertMatchesTotals(s, b.totals, 5);
  assert.equal(sum(s, 'iommuscope_groups_answered_total', { by: 'drain', code: 'unknown' }), 5);
  assert.equal(sum(s, 'iommuscope_page_requests_total', { dev: 'unknown' }), 10);
});

test('metrics: two queues add up; a closed queue no longer counts as pending', async () => {
  const m = new FaultMetrics();
  const q1 = new ContractQueue(1);
  const q2 = new ContractQueue(2, { firstGroup: 1000 });
  q1.read({ pages: 1 });
  q2.read({ pages: 2 });
  m.observe(q1.flush());
  m.observe(q2.flush());
  let s = samples(await m.metrics());
  assert.equal(sum(s, 'iommuscope_page_requests_total'), 3);
  assert.equal(sum(s, 'iommuscope_groups_pending'), 2);
  m.queueClosed(1);
  s = samples(await m.metrics());
  assert.equal(sum(s, 'iommuscope_groups_pending'), 1);
  assert.equal(sum(s, 'iommuscope_fault_queues'), 2);
});

test('topology metrics: units, groups, devices and ATS/PRI/PASID from a captured sysfs tree', async (t) => {
  const registry = new Registry();
  const topo = scanTopology({ sysfsRoot: path.join(fixtures, 'sysfs-caps'), pciIds: null });
  new TopologyMetrics(registry).update(topo);
  const text = await registry.metrics();
  const verdict = promtoolCheck(text);
  if ('skip' in verdict) t.skip(verdict.skip);
  else assert.equal(verdict.status, 0, verdict.output);
  const s = samples(text);
  assert.equal(sum(s, 'iommuscope_iommu_unit_info'), topo.units.length);
  assert.equal(sum(s, 'iommuscope_iommu_group_info'), topo.groups.length);
  assert.equal(sum(s, 'iommuscope_device_info'), topo.devices.length);
  for (const cap of ['ats', 'pri', 'pasid'] as const) {
    const enabled = topo.devices.filter(
      (d) => d[cap].supported === true && d[cap].enabled === true,
    ).length;
    assert.equal(sum(s, 'iommuscope_devices_capability_enabled', { cap }), enabled, cap);
    assert.equal(sum(s, 'iommuscope_device_capability_enabled', { cap }), enabled, cap);
  }
  assert.ok(
    topo.devices.some((d) => d.pri.enabled === true),
    'the fixture has a PRI-enabled device',
  );
  const dmar = s.find((x) => x.name === 'iommuscope_iommu_unit_info' && x.labels.unit === 'dmar1');
  assert.equal(dmar?.labels.kind, 'intel-vtd');
});

test('metrics route: Bearer token only; 401 says how; the token in the URL is refused', async () => {
  const m = new FaultMetrics();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!serveMetrics(req, res, url.pathname, 'sekrit', m.registry)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const none = await fetch(`${base}/metrics`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="iommuscope"');
    assert.match(await none.text(), /Authorization: Bearer TOKEN.*credentials_file/);
    assert.equal(
      (await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status,
      401,
    );
    assert.equal((await fetch(`${base}/metrics?token=sekrit`)).status, 401);
    const ok = await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer sekrit' } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await ok.text(), /# TYPE iommuscope_page_requests_total counter/);
    const post = await fetch(`${base}/metrics`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sekrit' },
    });
    assert.equal(post.status, 405);
    assert.equal((await fetch(`${base}/other`)).status, 404, 'other paths are left to the caller');
  } finally {
    server.close();
  }
});
