// FaultLog: a projection of the queue's group events. Rows come from `read`
// entries and are settled by `answered` entries, by group sequence number
// (never by cookie); filters over a million rows; the bound that evicts
// only answered rows (a property test: a pending group is never dropped);
// the raw records behind detail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FaultLog } from '../../main/node/dashboard/fault-log';
import { decodeFaultRecord, encodeFaultRecord } from '../../main/common/fault-record';
import { decodeBatch } from '../../main/node/session/decode-batch';
import { answersBatch, floodBatch, makeBatch } from './dashboard-helpers';

const BY_USER = 0;
const BY_POLICY = 1;
const BY_DRAIN = 2;

test('a multi-page group is one row: perm is the union, detail has every page and its raw 40 bytes', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(
    makeBatch([
      {
        group: 41,
        cookie: 7,
        devId: 2,
        pasid: 5,
        grpid: 9,
        perm: 1,
        addr: 0x7000,
        readNs: 2e6,
        more: [{ perm: 2 }, { perm: 1 }],
      },
    ]),
  );
  assert.equal(log.size, 1);
  assert.deepEqual(
    { ...log.rowByGroup(41)! },
    {
      group: '41',
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
      rule: null,
      latencyUs: null,
    },
  );
  const d = log.detail(41)!;
  assert.equal(d.pages.length, 3);
  assert.deepEqual(
    d.pages.map((p) => p.addr),
    ['0x7000', '0x8000', '0x9000'],
  );
  assert.deepEqual(d.pages[2]!.flagNames, ['PASID_VALID', 'LAST_PAGE']);
  assert.deepEqual(d.pages[0]!.flagNames, ['PASID_VALID']);
  assert.deepEqual(d.pages[1]!.permNames, ['w']);
  const raw = Buffer.from(d.pages[1]!.raw, 'hex');
  assert.equal(raw.length, 40);
  assert.equal(decodeFaultRecord(new Uint8Array(raw).buffer).addr, '0x8000');
  // Negative: no row for another group number, even with the same cookie.
  assert.equal(log.detail(7), null);
  assert.equal(log.rowByGroup(40), undefined);
});

test('detail shows the bytes as read: a reserved word and unusual flags survive the session path', () => {
  // Step: craft what the addon hands over: one group of two pages, the first
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
  const totals = {
    faults: 2,
    groups: 1,
    answered: 0,
    success: 0,
    invalid: 0,
    byUser: 0,
    byPolicy: 0,
    byDrain: 0,
    byKernel: 0,
    pending: 1,
    errors: 0,
    overflow: 0,
    malformed: 1,
    reads: 1,
  };
  const batch = decodeBatch(
    {
      queue: 1,
      read: {
        group: new Float64Array([9]),
        cookie: new Uint32Array([4]),
        first: new Uint32Array([0]),
        pages: new Uint32Array([2]),
        readNs: new Float64Array([1e6]),
      },
      records,
      answered: {
        group: new Float64Array(0),
        cookie: new Uint32Array(0),
        codes: new Uint8Array(0),
        by: new Uint8Array(0),
        rule: new Int16Array(0),
        latencyNs: new Float64Array(0),
      },
      errors: [],
      overflow: 0,
      totals,
    },
    1,
  );
  // Step: the session's batch goes into the log as the dashboard does it.
  const log = new FaultLog({ startNs: 0 });
  log.ingest(batch);
  const d = log.detail(9)!;
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
  assert.equal(Buffer.from(rebuilt.detail(9)!.pages[0]!.raw, 'hex').readUInt32LE(20), 0);
});

test('records without PASID_VALID give pasid null; unknown groups give no detail', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(makeBatch([{ group: 1, pasid: null }]));
  assert.equal(log.rowByGroup(1)!.pasid, null);
  assert.equal(log.detail(99), null);
});

test('answers settle rows by group number, with who answered, the rule and the latency', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(makeBatch([{ group: 1 }, { group: 2 }, { group: 3 }]));
  log.ingest(
    answersBatch([
      { group: 1, code: 0, by: BY_POLICY, rule: 2, latencyNs: 2500 },
      { group: 3, code: 1, by: BY_USER },
    ]),
  );
  assert.deepEqual(
    log.query(0, 10).rows.map((r) => [r.group, r.state, r.by, r.rule]),
    [
      ['1', 'success', 'policy', 2],
      ['2', 'pending', null, null],
      ['3', 'invalid', 'user', null],
    ],
  );
  assert.equal(log.rowByGroup(1)!.latencyUs, 2.5);
  assert.equal(log.pendingCount, 1);
  assert.equal(log.answeredCount, 2);
  log.ingest(answersBatch([{ group: 2, code: 0, by: BY_DRAIN }]));
  assert.equal(log.pendingCount, 0);
});

test('a reused cookie is data, not identity: the answer settles the group it names, only', () => {
  const log = new FaultLog({ startNs: 0 });
  // Step: group 10 read with cookie 5 and answered; group 11 gets cookie 5 again.
  log.ingest(
    makeBatch(
      [
        { group: 10, cookie: 5, addr: 0x1000 },
        { group: 11, cookie: 5, addr: 0x2000 },
      ],
      [{ group: 10, cookie: 5, code: 0, by: BY_POLICY }],
    ),
  );
  assert.equal(log.rowByGroup(10)!.state, 'success');
  assert.equal(log.rowByGroup(11)!.state, 'pending');
  // Step: a group read later with the same cookie, and the answer of group 12 first.
  log.ingest(
    makeBatch([{ group: 12, cookie: 5, addr: 0x3000 }], [{ group: 12, code: 1, by: BY_USER }]),
  );
  assert.equal(log.rowByGroup(11)!.state, 'pending', 'the older group with cookie 5 is untouched');
  assert.equal(log.rowByGroup(12)!.state, 'invalid');
  assert.deepEqual(log.pendingMatching(), [11]);
});

test('groups whose records were left out are counted, not rows; their answers change nothing', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(
    makeBatch(
      [{ group: 1 }, { group: 2, leftOut: true }, { group: 3, leftOut: true }, { group: 4 }],
      [
        { group: 2, code: 0, by: BY_POLICY },
        { group: 3, code: 0, by: BY_POLICY },
        { group: 4, code: 0, by: BY_POLICY },
      ],
    ),
  );
  assert.equal(log.skipped, 2);
  assert.equal(log.read, 4);
  assert.deepEqual(
    log.query(0, 10).rows.map((r) => [r.group, r.state]),
    [
      ['1', 'pending'],
      ['4', 'success'],
    ],
  );
  assert.equal(log.pendingCount, 1);
});

test('a million rows: every filter answers exactly, with offset and limit', () => {
  const N = 1_000_000;
  const log = new FaultLog({ startNs: 0 });
  const chunk = 50_000;
  for (let at = 0; at < N; at += chunk) log.ingest(floodBatch(chunk, at + 1, { startIndex: at }));
  assert.equal(log.size, N);
  // Answer every 10th group (group = index + 1) success by policy.
  log.ingest(
    answersBatch(
      Array.from({ length: N / 10 }, (_, k) => ({
        group: k * 10 + 1,
        code: 0 as const,
        by: BY_POLICY,
      })),
    ),
  );

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
  assert.deepEqual(
    log.query(10, 3, { devId: 3 }).rows.map((r) => r.group),
    ['43', '47', '51'],
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
  assert.equal(addr.rows[0]!.group, '101');

  const success = time('state=success', () => log.query(0, 10, { state: 'success' }));
  assert.equal(success.total, N / 10);
  const pending = time('state=pending + devId=1', () =>
    log.query(0, 10, { state: 'pending', devId: 1 }),
  );
  // devId 1 ⇔ index % 4 == 0; answered ⇔ index % 10 == 0; both ⇔ index % 20 == 0.
  assert.equal(pending.total, N / 4 - N / 20);

  // A state filter's cache dies with an answer.
  log.ingest(answersBatch([{ group: 3, code: 1, by: BY_USER }]));
  assert.equal(log.query(0, 1, { state: 'success' }).total, N / 10);
  assert.equal(log.query(0, 1, { state: 'invalid' }).total, 1);
  assert.equal(log.pendingMatching({ devId: 1 }).length, N / 4 - N / 20);
});

test('multi-page filters: permissions are the union of the pages, an address matches on any page', () => {
  const log = new FaultLog({ startNs: 0 });
  log.ingest(
    makeBatch([
      // r on page 0, w on page 1: matches perm=rw as a group.
      { group: 1, perm: 1, addr: 0x10000, more: [{ perm: 2, addr: 0x90000 }] },
      { group: 2, perm: 1, addr: 0x10000 },
      // Pages straddle [0x40000, 0x50000] with none inside: no match.
      { group: 3, perm: 1, addr: 0x20000, more: [{ addr: 0x80000 }] },
      // The second page is inside the range.
      { group: 4, perm: 1, addr: 0x20000, more: [{ addr: 0x45000 }, { addr: 0x80000 }] },
    ]),
  );
  const groups = (f: Parameters<FaultLog['query']>[2]) =>
    log.query(0, 10, f).rows.map((r) => r.group);
  assert.deepEqual(groups({ perm: 'rw' }), ['1']);
  assert.deepEqual(groups({ perm: 'w' }), ['1']);
  assert.deepEqual(groups({ addrMin: '0x40000', addrMax: '0x50000' }), ['4']);
  assert.deepEqual(groups({ addrMin: '0x90000' }), ['1'], 'the last page of group 1');
  assert.deepEqual(groups({ addrMax: '0x10000' }), ['1', '2']);
  assert.deepEqual(log.pendingMatching({ perm: 'w' }), [1]);
});

test('past maxGroups the oldest answered rows are evicted; pending rows stay, all of them', () => {
  const max = 4096;
  const log = new FaultLog({ startNs: 0, maxGroups: max, maxRawRecords: 2048 });
  // Step: 20,000 groups held (pending), more than maxGroups.
  log.ingest(floodBatch(20_000, 1));
  assert.equal(log.size, 20_000, 'every pending group has a row');
  assert.equal(log.dropped, 0);
  // Step: 10,000 more, answered by policy: only the newest 4096 answered stay.
  const more = floodBatch(10_000, 20_001, { startIndex: 20_000 });
  more.answered = answersBatch(
    Array.from({ length: 10_000 }, (_, k) => ({
      group: 20_001 + k,
      code: 0 as const,
      by: BY_POLICY,
    })),
  ).answered;
  log.ingest(more);
  assert.equal(log.pendingCount, 20_000);
  assert.equal(log.answeredCount, max);
  assert.equal(log.size, 20_000 + max);
  assert.equal(log.dropped, 10_000 - max);
  assert.equal(log.query(0, 1, { state: 'pending' }).total, 20_000);
  assert.equal(log.query(0, 1, { state: 'success' }).rows[0]!.group, String(30_001 - max));
  // Every pending group is drainable by filter.
  assert.equal(log.pendingMatching({ devId: 1 }).length, 20_000 / 4);
  assert.equal(log.pendingMatching().length, 20_000);
  // Step: answering an old pending group now: it is the oldest answered row, so it goes.
  log.ingest(answersBatch([{ group: 5, code: 1, by: BY_USER }]));
  assert.equal(log.rowByGroup(5), undefined);
  assert.equal(log.answeredCount, max);
  assert.equal(log.pendingCount, 19_999);
  // The unfiltered view is in group order and skips evicted rows.
  const page = log.query(0, 6).rows.map((r) => r.group);
  assert.deepEqual(page, ['1', '2', '3', '4', '6', '7']);
  assert.equal(log.query(0, 1).total, log.size);
  // The raw ring is smaller than the log: old rows keep their fields, lose their bytes.
  assert.deepEqual(log.detail(1)!.pages, []);
  assert.equal(log.detail(30_000)!.pages.length, 1);
});

test('property: eviction never drops a pending row, keeps the newest answered ones, and query sees exactly the rows', () => {
  type Op =
    | { kind: 'read'; n: number; leftOutEvery: number }
    | { kind: 'answer'; picks: number[]; code: 0 | 1 };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('read' as const),
      n: fc.integer({ min: 1, max: 60 }),
      leftOutEvery: fc.integer({ min: 0, max: 5 }),
    }),
    fc.record({
      kind: fc.constant('answer' as const),
      picks: fc.array(fc.nat(), { maxLength: 40 }),
      code: fc.constantFrom(0 as const, 1 as const),
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 16, max: 64 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
      const log = new FaultLog({ startNs: 0, maxGroups: max, maxRawRecords: 64 });
      let next = 1;
      const pending: number[] = [];
      const answered: number[] = []; // groups with a row ever that were answered
      for (const o of ops) {
        if (o.kind === 'read') {
          const groups = Array.from({ length: o.n }, (_, i) => ({
            group: next + i,
            cookie: (i % 7) + 1, // cookies repeat on purpose
            leftOut: o.leftOutEvery > 0 && i % o.leftOutEvery === 0,
            ...(i % 3 === 0 ? { more: [{ perm: 2 }] } : {}),
          }));
          next += o.n;
          // Left-out groups are answered automatically in the same flush (the contract).
          const auto = groups
            .filter((g) => g.leftOut)
            .map((g) => ({ group: g.group, code: 0 as const, by: BY_POLICY }));
          log.ingest(makeBatch(groups, auto));
          for (const g of groups) if (!g.leftOut) pending.push(g.group);
        } else {
          const chosen = new Set<number>();
          for (const p of o.picks) if (pending.length) chosen.add(pending[p % pending.length]!);
          const list = [...chosen];
          log.ingest(answersBatch(list.map((group) => ({ group, code: o.code, by: BY_USER }))));
          for (const g of list) {
            pending.splice(pending.indexOf(g), 1);
            answered.push(g);
          }
        }
        // Every pending group has its row, in group order.
        assert.deepEqual(
          log.pendingMatching(),
          [...pending].sort((a, b) => a - b),
        );
        assert.equal(log.pendingCount, pending.length);
        // At most `max` answered rows, and they are the newest (highest) answered groups.
        const keep = [...answered]
          .sort((a, b) => b - a)
          .slice(0, max)
          .sort((a, b) => a - b);
        assert.equal(log.answeredCount, keep.length);
        const all = log.query(0, 100_000).rows;
        assert.equal(all.length, log.size);
        assert.deepEqual(
          all.filter((r) => r.state !== 'pending').map((r) => Number(r.group)),
          keep,
        );
        assert.deepEqual(
          all.map((r) => Number(r.group)),
          [...pending, ...keep].sort((a, b) => a - b),
        );
        // Paged access agrees with the whole list.
        if (all.length > 3) assert.deepEqual(log.query(2, 1).rows[0], all[2]);
      }
    }),
    { numRuns: 300, seed: 7 },
  );
});

test('compaction with pending rows scattered among evicted ones keeps every row findable', () => {
  const log = new FaultLog({ startNs: 0, maxGroups: 16, maxRawRecords: 1024 });
  const held: number[] = [];
  for (let round = 0; round < 50; round++) {
    const first = round * 100 + 1;
    const b = floodBatch(100, first, { startIndex: round * 100 });
    const answers = [];
    for (let g = first; g < first + 100; g++) {
      if (g % 3 === 0) held.push(g);
      else answers.push({ group: g, code: 0 as const, by: BY_POLICY });
    }
    b.answered = answersBatch(answers).answered;
    log.ingest(b);
  }
  assert.equal(log.pendingCount, held.length);
  assert.deepEqual(log.pendingMatching(), held);
  assert.equal(log.answeredCount, 16);
  assert.equal(log.size, held.length + 16);
  assert.equal(log.query(0, 1).total, log.size);
  // Every held group is found by number, with its own fields.
  for (const g of [held[0]!, held[700]!, held.at(-1)!]) {
    const row = log.rowByGroup(g)!;
    assert.equal(row.group, String(g));
    assert.equal(row.addr, `0x${(0x1000 + (g - 1) * 4096).toString(16)}`);
  }
  // Paging through the whole log sees each kept row once, in order.
  const seen: number[] = [];
  for (let off = 0; off < log.size; off += 97) {
    seen.push(...log.query(off, 97).rows.map((r) => Number(r.group)));
  }
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
  );
  assert.equal(new Set(seen).size, log.size);
});
