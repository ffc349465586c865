// faults.query with a sort: the order holds across pages (sorted in the
// core, not per page), ties go by group id, absent values (pending latency,
// no PASID) come last either way, 64-bit addresses compare exactly, the
// cached order follows answers and new rows, `locate` names a group's
// position under filter + sort, and a bad sort is refused by the contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultLog } from '../../main/node/dashboard/fault-log';
import { requests } from '../../main/common/contract';
import { validate } from '../../main/common/schema';
import { answersBatch, floodBatch, makeBatch } from './dashboard-helpers';

const BY_USER = 0;

/** 30 groups #1..#30; groups 1..20 answered with latency (group * 7 mod 11) µs, 21..30 pending. */
function latencyLog(): FaultLog {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(floodBatch(30, 1));
  log.ingest(
    answersBatch(
      Array.from({ length: 20 }, (_, i) => ({
        group: i + 1,
        code: 0 as const,
        by: BY_USER,
        latencyNs: (((i + 1) * 7) % 11) * 1000,
      })),
    ),
  );
  return log;
}

function groups(rows: { group: string }[]): number[] {
  return rows.map((r) => Number(r.group));
}

test('sort by latency desc across pages: largest first, ties by group, pending last', () => {
  const log = latencyLog();
  const all: number[] = [];
  for (let offset = 0; offset < 30; offset += 7) {
    const r = log.query(offset, 7, undefined, { key: 'latency', dir: 'desc' });
    assert.equal(r.total, 30);
    all.push(...groups(r.rows));
  }
  const lat = (g: number): number => ((g * 7) % 11) * 1000;
  const answered = Array.from({ length: 20 }, (_, i) => i + 1).sort(
    (a, b) => lat(b) - lat(a) || a - b,
  );
  assert.deepEqual(all, [...answered, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  // Ascending: smallest first, and pending still last.
  const asc = groups(log.query(0, 30, undefined, { key: 'latency', dir: 'asc' }).rows);
  assert.deepEqual(
    asc.slice(0, 20),
    [...answered].sort((a, b) => lat(a) - lat(b) || a - b),
  );
  assert.deepEqual(asc.slice(20), [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
});

test('sort by group desc reverses; group asc is the default order', () => {
  const log = latencyLog();
  assert.deepEqual(
    groups(log.query(0, 3, undefined, { key: 'group', dir: 'desc' }).rows),
    [30, 29, 28],
  );
  assert.deepEqual(
    groups(log.query(0, 3, undefined, { key: 'group', dir: 'asc' }).rows),
    [1, 2, 3],
  );
});

test('the sorted order follows answers and new rows (no stale cache)', () => {
  const log = latencyLog();
  const first = (): number =>
    Number(log.query(0, 1, undefined, { key: 'latency', dir: 'desc' }).rows[0]!.group);
  assert.notEqual(first(), 25);
  log.ingest(answersBatch([{ group: 25, code: 1, by: BY_USER, latencyNs: 1e9 }]));
  assert.equal(first(), 25, 'a new largest latency moves to the top');
  log.ingest(floodBatch(1, 31, { startIndex: 30 }));
  log.ingest(answersBatch([{ group: 31, code: 0, by: BY_USER, latencyNs: 2e9 }]));
  assert.equal(first(), 31, 'a new row answered slower still is first');
  assert.equal(log.query(0, 1, undefined, { key: 'latency', dir: 'desc' }).total, 31);
});

test('sort under a filter; locate gives the position under filter and sort, null when absent', () => {
  const log = latencyLog();
  const sort = { key: 'latency', dir: 'desc' } as const;
  const f = { filter: 'state != pending' };
  const r = log.query(0, 20, f, sort, '5');
  assert.equal(r.total, 20);
  assert.equal(groups(r.rows).indexOf(5), r.at);
  assert.equal(log.query(0, 1, f, sort, '25').at, null, 'pending #25 is filtered out');
  assert.equal(log.query(0, 1, f, sort, '999').at, null, 'no such group');
  assert.equal(log.query(0, 1, undefined, undefined, '7').at, 6, 'group order: #7 is 7th');
});

test('absent PASIDs sort last; addresses above 2^53 compare exactly', () => {
  const log = new FaultLog({ startNs: 0 });
  const hi = 0xffff_ff00 * 2 ** 32;
  log.ingest(
    makeBatch([
      { group: 1, pasid: null, addr: hi + 0x3000 },
      { group: 2, pasid: 9, addr: hi + 0x1000 },
      { group: 3, pasid: 4, addr: hi + 0x2000 },
    ]),
  );
  for (const dir of ['asc', 'desc'] as const) {
    const got = groups(log.query(0, 3, undefined, { key: 'pasid', dir }).rows);
    assert.equal(got[2], 1, `${dir}: the group without PASID is last`);
  }
  assert.deepEqual(groups(log.query(0, 3, undefined, { key: 'addr', dir: 'asc' }).rows), [2, 3, 1]);
  assert.deepEqual(
    groups(log.query(0, 3, undefined, { key: 'addr', dir: 'desc' }).rows),
    [1, 3, 2],
  );
});

test('the contract refuses an unknown sort key or direction and an extra field', () => {
  const params = requests['faults.query'].params;
  validate(params, { offset: 0, limit: 5, sort: { key: 'latency', dir: 'desc' } }, 'params');
  assert.throws(
    () => validate(params, { offset: 0, limit: 5, sort: { key: 'speed', dir: 'asc' } }, 'params'),
    /params\.sort\.key: expected "group"/,
  );
  assert.throws(
    () => validate(params, { offset: 0, limit: 5, sort: { key: 'dev', dir: 'up' } }, 'params'),
    /params\.sort\.dir: expected "asc" or "desc"/,
  );
  assert.throws(
    () =>
      validate(params, { offset: 0, limit: 5, sort: { key: 'dev', dir: 'asc', x: 1 } }, 'params'),
    /params\.sort\.x: unknown field/,
  );
  assert.throws(
    () => validate(params, { offset: 0, limit: 5, locate: '#5' }, 'params'),
    /params\.locate/,
  );
});

test('a read-time range (brushed on a chart) narrows the query, also with text and sort', () => {
  // floodBatch reads group k at k µs: groups 1..30 at 0.000 .. 0.029 ms.
  const log = latencyLog();
  const r = log.query(0, 30, { readMsMin: 0.005, readMsMax: 0.009 });
  assert.deepEqual(groups(r.rows), [6, 7, 8, 9, 10]);
  const both = log.query(0, 30, { readMsMin: 0.005, readMsMax: 0.009, filter: 'dev == 2' });
  assert.deepEqual(groups(both.rows), [6, 10], 'AND with the filter text');
  const sorted = log.query(0, 30, { readMsMin: 0.005 }, { key: 'group', dir: 'desc' });
  assert.equal(sorted.total, 25);
  assert.equal(sorted.rows[0]!.group, '30');
  // Negative: an empty range matches nothing; a negative bound is refused by the contract.
  assert.equal(log.query(0, 30, { readMsMin: 1, readMsMax: 0.5 }).total, 0);
  assert.throws(
    () =>
      validate(
        requests['faults.query'].params,
        { offset: 0, limit: 1, filter: { readMsMin: -1 } },
        'p',
      ),
    /p\.filter\.readMsMin: -1 is outside/,
  );
});

test('integer keys (packed sort) order like a plain comparator, ties by group, both directions', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(floodBatch(500, 1, { devices: 7, pasids: 5 }));
  const all = log.query(0, 500).rows;
  for (const key of ['dev', 'pasid', 'grpid', 'cookie', 'perm'] as const) {
    for (const dir of ['asc', 'desc'] as const) {
      const value = (r: (typeof all)[number]): number =>
        key === 'dev'
          ? r.devId
          : key === 'pasid'
            ? (r.pasid ?? -1)
            : key === 'grpid'
              ? r.grpid
              : key === 'cookie'
                ? r.cookie
                : r.perm;
      const sign = dir === 'asc' ? 1 : -1;
      const want = [...all]
        .sort((a, b) => sign * (value(a) - value(b)) || Number(a.group) - Number(b.group))
        .map((r) => r.group);
      const got = log.query(0, 500, undefined, { key, dir }).rows.map((r) => r.group);
      assert.deepEqual(got, want, `${key} ${dir}`);
    }
  }
});
