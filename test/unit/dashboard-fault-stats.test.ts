// faults.stats over the fault log: per device, per PASID and per
// conversation (dev, PASID, grpid) counts, answerer mix and exact
// nearest-rank latency percentiles, on TS-built batches; the filter narrows
// them; tables are bounded (the rest counted in leftOut); the contract
// validates the request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultLog } from '../../main/node/dashboard/fault-log';
import { percentile } from '../../main/node/dashboard/fault-stats';
import { requests } from '../../main/common/contract';
import { validate } from '../../main/common/schema';
import { answersBatch, floodBatch, makeBatch, type Answer } from './dashboard-helpers';

const BY_USER = 0;
const BY_POLICY = 1;
const BY_DRAIN = 2;

/**
 * Groups 1-10: dev 1 PASID 7 grpid 0 (1-5, group 3 with 3 pages) and grpid 1
 * (6-10); 11-14: dev 2 without PASID, grpid 2. Latencies 1..10 µs for 1-10
 * by policy, except 9 and 10 Invalid by user; 11 and 12 drained; 13, 14 pending.
 */
function log(): FaultLog {
  const l = new FaultLog({ startNs: 0 });
  const groups = [];
  for (let g = 1; g <= 10; g++) {
    groups.push({
      group: g,
      devId: 1,
      pasid: 7,
      grpid: g <= 5 ? 0 : 1,
      ...(g === 3 ? { more: [{}, {}] } : {}),
    });
  }
  for (let g = 11; g <= 14; g++) groups.push({ group: g, devId: 2, pasid: null, grpid: 2 });
  const answers: Answer[] = [];
  for (let g = 1; g <= 10; g++) {
    answers.push({
      group: g,
      code: g >= 9 ? 1 : 0,
      by: g >= 9 ? BY_USER : BY_POLICY,
      latencyNs: g * 1000,
    });
  }
  l.ingest(makeBatch(groups));
  l.ingest(
    answersBatch([
      ...answers,
      { group: 11, code: 1, by: BY_DRAIN, latencyNs: 50_000 },
      { group: 12, code: 1, by: BY_DRAIN, latencyNs: 70_000 },
    ]),
  );
  return l;
}

test('nearest-rank percentiles', () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(v, 50), 5);
  assert.equal(percentile(v, 99), 10);
  assert.equal(percentile([4], 50), 4);
  assert.equal(percentile([4], 99), 4);
});

test('per device: groups, pages, pending, success/invalid, answerers, latency', () => {
  const s = log().stats();
  assert.equal(s.groups, 14);
  assert.deepEqual(s.byDevice.rows, [
    {
      dev: 1,
      pasid: null,
      grpid: null,
      groups: 10,
      pages: 12,
      pending: 0,
      success: 8,
      invalid: 2,
      byUser: 2,
      byPolicy: 8,
      byDrain: 0,
      byKernel: 0,
      p50Us: 5,
      p99Us: 10,
      maxUs: 10,
      firstGroup: '1',
      lastGroup: '10',
    },
    {
      dev: 2,
      pasid: null,
      grpid: null,
      groups: 4,
      pages: 4,
      pending: 2,
      success: 0,
      invalid: 2,
      byUser: 0,
      byPolicy: 0,
      byDrain: 2,
      byKernel: 0,
      // Pending groups have no latency: the percentiles are over the two drained ones.
      p50Us: 50,
      p99Us: 70,
      maxUs: 70,
      firstGroup: '11',
      lastGroup: '14',
    },
  ]);
  assert.equal(s.byDevice.leftOut, 0);
});

test('per PASID (null = no PASID) and per conversation (dev, PASID, grpid)', () => {
  const s = log().stats();
  assert.deepEqual(
    s.byPasid.rows.map((r) => [r.pasid, r.dev, r.groups, r.pending]),
    [
      [7, null, 10, 0],
      [null, null, 4, 2],
    ],
  );
  assert.deepEqual(
    s.conversations.rows.map((r) => [r.dev, r.pasid, r.grpid, r.groups, r.pages, r.p50Us, r.maxUs]),
    [
      [1, 7, 0, 5, 7, 3, 5],
      [1, 7, 1, 5, 5, 8, 10],
      [2, null, 2, 4, 4, 50, 70],
    ],
  );
  assert.deepEqual(
    s.conversations.rows.map((r) => [r.firstGroup, r.lastGroup]),
    [
      ['1', '5'],
      ['6', '10'],
      ['11', '14'],
    ],
  );
});

test('the filter narrows every table; a bad filter is a grammar error', () => {
  const s = log().stats({ filter: 'latency > 4us && by == policy' });
  assert.equal(s.groups, 4); // groups 5-8
  assert.deepEqual(
    s.byDevice.rows.map((r) => [r.dev, r.groups, r.p50Us, r.p99Us, r.maxUs]),
    [[1, 4, 6, 8, 8]],
  );
  assert.deepEqual(log().stats({ filter: 'state == pending' }).byDevice.rows[0]!.groups, 2);
  assert.throws(
    () => log().stats({ filter: 'dev ==' }),
    /filter: expected a number after '==' at 4/,
  );
});

test('tables are bounded: the most groups first, the rest counted', () => {
  const l = new FaultLog({ startNs: 0 });
  // 600 groups on 3 devices, PASIDs 1-8, grpid = index & 0x1ff: 512 conversations at most.
  l.ingest(floodBatch(600, 1, { devices: 3, pasids: 8 }));
  const s = l.stats(undefined, 10);
  assert.equal(s.groups, 600);
  assert.equal(s.conversations.rows.length, 10);
  const all = l.stats().conversations;
  assert.equal(s.conversations.leftOut, all.rows.length + all.leftOut - 10);
  const counts = all.rows.map((r) => r.groups);
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => b - a),
    'most groups first',
  );
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    600,
  );
  assert.equal(
    s.byDevice.rows.reduce((a, r) => a + r.pending, 0),
    600,
  );
});

test('the request is schema-validated', () => {
  const params = requests['faults.stats'].params;
  validate(params, { filter: { filter: 'dev == 1' }, maxConversations: 50 }, 'params');
  assert.throws(() => validate(params, { maxConversations: 0 }, 'params'));
  assert.throws(() => validate(params, { maxConversations: 5000 }, 'params'));
  assert.throws(() => validate(params, { bogus: 1 }, 'params'));
});
