// FaultLog: rows from batches, answers, filters over a million rows, the
// bounded cap with its dropped count, and the raw records behind detail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultLog } from '../../main/node/dashboard/fault-log';
import { decodeFaultRecord, encodeFaultRecord } from '../../main/common/fault-record';
import { decodeBatch } from '../../main/node/session/decode-batch';
import { floodBatch, makeBatch } from './dashboard-helpers';

const BY_USER = 0;
const BY_POLICY = 1;
const BY_DRAIN = 2;

test('a multi-page group is one row; detail has every page and its raw 40 bytes', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(
    makeBatch([
      { cookie: 7, devId: 2, pasid: 5, grpid: 9, perm: 3, addr: 0x7000, last: false, readNs: 2e6 },
      { cookie: 7, devId: 2, pasid: 5, grpid: 9, perm: 3, addr: 0x8000, last: false },
      { cookie: 7, devId: 2, pasid: 5, grpid: 9, perm: 3, addr: 0x9000, last: true },
    ]),
  );
  assert.equal(log.size, 1);
  const row = log.row(0)!;
  assert.deepEqual(
    { ...row },
    {
      index: 0,
      cookie: 7,
      devId: 2,
      pasid: 5,
      grpid: 9,
      perm: 3,
      addr: '0x7000',
      pages: 3,
      readMs: 2,
      state: 'pending',
      by: null,
      latencyUs: null,
    },
  );
  const d = log.detail(7)!;
  assert.equal(d.pages.length, 3);
  assert.deepEqual(
    d.pages.map((p) => p.addr),
    ['0x7000', '0x8000', '0x9000'],
  );
  assert.deepEqual(d.pages[2]!.flagNames, ['PASID_VALID', 'LAST_PAGE']);
  assert.deepEqual(d.pages[0]!.permNames, ['r', 'w']);
  const raw = Buffer.from(d.pages[1]!.raw, 'hex');
  assert.equal(raw.length, 40);
  assert.equal(decodeFaultRecord(new Uint8Array(raw).buffer).addr, '0x8000');
});

test('detail shows the bytes as read: a reserved word and unusual flags survive the session path', () => {
  // Step: craft what the addon hands over: two pages of cookie 4, the first
  // with a non-zero reserved word, the second with kernel-internal flag bit 3.
  const records = new ArrayBuffer(80);
  const page = (i: number, flags: number, reserved: number) =>
    encodeFaultRecord(
      {
        flags,
        devId: 3,
        pasid: 0,
        grpid: 1,
        perm: 1,
        addrHi: 0,
        addrLo: 0x4000 + i * 0x1000,
        length: 4096,
        cookie: 4,
        reserved,
      },
      new DataView(records, i * 40, 40),
    );
  page(0, 0, 0xdeadbeef);
  page(1, 0x2 | 0x8, 0);
  const expected = [0, 1].map((i) => Buffer.from(records, i * 40, 40).toString('hex'));
  const none = { cookies: new Uint32Array(0), codes: new Uint8Array(0), by: new Uint8Array(0) };
  const batch = decodeBatch(
    {
      records,
      readNs: new Float64Array([1e6, 1e6]),
      answered: { ...none, rule: new Int16Array(0), latencyNs: new Float64Array(0) },
      errors: [],
      overflow: 0,
      totals: {
        faults: 2,
        groups: 1,
        answered: 0,
        success: 0,
        invalid: 0,
        pending: 1,
        errors: 0,
        overflow: 0,
        malformed: 1,
        reads: 1,
      },
    },
    1,
  );
  // Step: the session's batch goes into the log as the dashboard does it.
  const log = new FaultLog({ startNs: 0 });
  log.ingest(batch);
  const d = log.detail(4)!;
  assert.deepEqual(
    d.pages.map((p) => p.raw),
    expected,
    'the 40 bytes as read, not rebuilt from the columns',
  );
  assert.equal(Buffer.from(d.pages[0]!.raw, 'hex').readUInt32LE(20), 0xdeadbeef);
  assert.equal(d.pages[1]!.flags, 0xa);
  // Negative: a batch made in TypeScript without records is rebuilt (reserved 0).
  const rebuilt = new FaultLog({ startNs: 0 });
  rebuilt.ingest({ ...batch, records: undefined });
  assert.equal(Buffer.from(rebuilt.detail(4)!.pages[0]!.raw, 'hex').readUInt32LE(20), 0);
});

test('records without PASID_VALID give pasid null; unknown cookies give no detail', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(makeBatch([{ cookie: 1, pasid: null }]));
  assert.equal(log.row(0)!.pasid, null);
  assert.equal(log.detail(99), null);
  assert.equal(log.detail(1, 5), null, 'an index past the log');
});

test('answers move rows out of pending, with who answered and the latency', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(makeBatch([{ cookie: 1 }, { cookie: 2 }, { cookie: 3 }]));
  log.ingest(
    makeBatch(
      [],
      [
        { cookie: 1, code: 0, by: BY_POLICY, latencyNs: 2500 },
        { cookie: 3, code: 1, by: BY_USER },
        { cookie: 42, code: 1, by: BY_DRAIN }, // never logged: counted, no row changes
      ],
    ),
  );
  assert.deepEqual(
    [0, 1, 2].map((i) => [log.row(i)!.state, log.row(i)!.by]),
    [
      ['success', 'policy'],
      ['pending', null],
      ['invalid', 'user'],
    ],
  );
  assert.equal(log.row(0)!.latencyUs, 2.5);
  assert.deepEqual(log.answeredBy, [1, 1, 1, 0]);
  assert.equal(log.pendingCount, 1);
});

test('a cookie reused after its answer (same batch) answers the older row first', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(
    makeBatch(
      [
        { cookie: 5, addr: 0x1000 },
        { cookie: 5, addr: 0x2000 },
      ],
      [{ cookie: 5, code: 0, by: BY_POLICY }],
    ),
  );
  assert.equal(log.row(0)!.state, 'success');
  assert.equal(log.row(1)!.state, 'pending');
  assert.equal(log.pendingIndex(5), 1);
  log.ingest(makeBatch([], [{ cookie: 5, code: 1, by: BY_USER }]));
  assert.equal(log.row(1)!.state, 'invalid');
  assert.equal(log.pendingIndex(5), undefined);
});

test('reconcile settles rows whose answers were lost as answered (code unknown), by cookie and read time', () => {
  const log = new FaultLog({ startNs: 0 });
  // Step: groups 1..4 read; 1 answered and delivered; then cookie 2 is reused
  // (its first answer was lost) by a group read later.
  log.ingest(
    makeBatch(
      [1, 2, 3, 4].map((cookie) => ({ cookie, readNs: cookie * 1e6 })),
      [{ cookie: 1, code: 0, by: BY_USER }],
    ),
  );
  log.ingest(makeBatch([{ cookie: 2, readNs: 9e6 }]));
  assert.equal(log.pendingCount, 4);
  // Step: the queue still has 3 and the new 2 pending: old 2 and 4 were answered.
  const settled = log.reconcile([
    { cookie: 3, readNs: 3e6 },
    { cookie: 2, readNs: 9e6 },
  ]);
  assert.equal(settled, 2);
  assert.equal(log.answeredUnknown, 2);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => [log.row(i)!.cookie, log.row(i)!.state, log.row(i)!.by]),
    [
      [1, 'success', 'user'],
      [2, 'answered', null],
      [3, 'pending', null],
      [4, 'answered', null],
      [2, 'pending', null],
    ],
  );
  assert.equal(log.pendingCount, 2);
  assert.deepEqual(
    log.pendingMatching().map((g) => g.index),
    [2, 4],
  );
  assert.equal(log.query(0, 10, { state: 'answered' }).total, 2);
  // Step: the kept rows still take their real answers.
  log.ingest(makeBatch([], [{ cookie: 2, code: 1, by: BY_DRAIN }]));
  assert.equal(log.row(4)!.state, 'invalid');
  assert.equal(log.row(1)!.state, 'answered', 'the settled row keeps its state');
  // Negative: nothing to settle when the queue agrees with the log.
  assert.equal(log.reconcile([{ cookie: 3, readNs: 3e6 }]), 0);
  assert.equal(log.answeredUnknown, 2);
});

test('a million rows: every filter answers exactly, with offset and limit', () => {
  const N = 1_000_000;
  const log = new FaultLog({ startNs: 0 });
  const chunk = 50_000;
  for (let at = 0; at < N; at += chunk) log.ingest(floodBatch(chunk, at + 1, { startIndex: at }));
  assert.equal(log.size, N);
  // Answer every 10th group (cookie = index + 1) success by policy.
  const answered = Array.from({ length: N / 10 }, (_, k) => ({
    cookie: k * 10 + 1,
    code: 0 as const,
    by: BY_POLICY,
  }));
  log.ingest(makeBatch([], answered));

  const time = <R extends { total: number }>(label: string, fn: () => R): R => {
    const t0 = performance.now();
    const r = fn();
    const t1 = performance.now();
    const again = fn();
    const t2 = performance.now();
    assert.equal(again.total, r.total, `${label}: the cached answer is the same`);
    console.log(
      `  faults.query ${label} over ${N} rows: ${(t1 - t0).toFixed(1)} ms (cached ${(t2 - t1).toFixed(2)} ms), total ${r.total}`,
    );
    return r;
  };
  const all = time('no filter', () => log.query(N - 5, 10));
  assert.equal(all.total, N);
  assert.equal(log.query(N - 5, 10).rows.length, 5);

  const dev = time('devId=3', () => log.query(0, 1000, { devId: 3 }));
  assert.equal(dev.total, N / 4);
  const devRows = log.query(10, 3, { devId: 3 }).rows;
  assert.deepEqual(
    devRows.map((r) => r.index),
    [42, 46, 50],
  );

  const pasid = time('pasid=8', () => log.query(0, 10, { pasid: 8 }));
  assert.equal(pasid.total, N / 8);

  const perm = time('perm=w', () => log.query(0, 10, { perm: 'w' }));
  assert.equal(perm.total, N / 2);
  assert.ok(log.query(0, 50, { perm: 'rw' }).rows.every((r) => r.perm === 3));

  // Addresses are 0x1000 + index * 4096: [index 100, index 199].
  const addr = time('addr range', () =>
    log.query(0, 1000, { addrMin: '0x65000', addrMax: `0x${(0x1000 + 199 * 4096).toString(16)}` }),
  );
  assert.equal(addr.total, 100);
  assert.equal(addr.rows[0]!.index, 100);

  const success = time('state=success', () => log.query(0, 10, { state: 'success' }));
  assert.equal(success.total, N / 10);
  const pending = time('state=pending + devId=1', () =>
    log.query(0, 10, { state: 'pending', devId: 1 }),
  );
  // devId 1 ⇔ index % 4 == 0; answered ⇔ index % 10 == 0; both ⇔ index % 20 == 0.
  assert.equal(pending.total, N / 4 - N / 20);

  // A state filter's cache dies with an answer; an address filter's does not need to.
  log.ingest(makeBatch([], [{ cookie: 3, code: 1, by: BY_USER }]));
  assert.equal(log.query(0, 1, { state: 'success' }).total, N / 10);
  assert.equal(log.query(0, 1, { state: 'invalid' }).total, 1);
  assert.equal(log.pendingMatching({ devId: 1 }).length, N / 4 - N / 20);
});

test('past maxGroups the oldest rows are dropped and counted; queries skip them', () => {
  const log = new FaultLog({ startNs: 0, maxGroups: 4096, maxRawRecords: 2048 });
  log.ingest(floodBatch(10_000, 1));
  assert.equal(log.size, 4096);
  assert.equal(log.dropped, 10_000 - 4096);
  assert.equal(log.logged, 10_000);
  const first = log.query(0, 1).rows[0]!;
  assert.equal(first.index, 10_000 - 4096);
  assert.equal(log.row(0), undefined, 'a dropped row is gone');
  // A filter cached before more rows arrive still starts at the oldest kept row.
  assert.equal(log.query(0, 1, { devId: 1 }).total, 4096 / 4);
  log.ingest(floodBatch(4, 20_001, { startIndex: 10_000 }));
  const dev1 = log.query(0, 1, { devId: 1 });
  assert.equal(dev1.total, 4096 / 4);
  assert.ok(dev1.rows[0]!.index >= log.dropped);
  // Answers for dropped rows are counted but change nothing.
  log.ingest(makeBatch([], [{ cookie: 1, code: 0, by: BY_DRAIN }]));
  assert.equal(log.answeredBy[BY_DRAIN], 1);
  // The raw ring is smaller than the log: old rows keep their fields, lose their bytes.
  const old = log.query(0, 1).rows[0]!;
  assert.deepEqual(log.detail(old.cookie, old.index)!.pages, []);
  const recent = log.newest(1)[0]!;
  assert.equal(log.detail(recent.cookie, recent.index)!.pages.length, 1);
});
