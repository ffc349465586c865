// Evaluating filters: the multi-page semantics on a mixed group, absent
// fields, fields known after the answer, and the dashboard's columnar log
// (its own GroupFacts) selecting exactly what the plain evaluator selects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterGroups, matchGroup, parseFilter, type FilterGroup } from '../../main/common/filter';
import { faultFilterExpr } from '../../main/common/filter/fault-filter';
import { GrammarError } from '../../main/common/grammar-error';
import { FaultLog } from '../../main/node/dashboard/fault-log';
import { answersBatch, makeBatch } from './dashboard-helpers';
import { prng, randomAnswerAtom, randomFilter, randomGroup } from '../shared/random-filters';

/** Pages r, w, rx at 0x1f000, 0x20000, 0x21000: across the 0x20000 boundary. */
const mixed: FilterGroup = {
  records: [1, 2, 5].map((perm, i) => ({
    flags: 1 | (i === 2 ? 2 : 0),
    devId: 2,
    pasid: 3,
    grpid: 1,
    perm,
    addrHi: 0,
    addrLo: 0x1f000 + i * 0x1000,
    cookie: 9,
  })),
};
const noPasid: FilterGroup = { records: mixed.records.map((r) => ({ ...r, flags: r.flags & ~1 })) };

function check(group: FilterGroup, cases: readonly (readonly [string, boolean])[]): void {
  for (const [text, want] of cases) assert.equal(matchGroup(parseFilter(text), group), want, text);
}

test('evaluate: permissions are the union of the pages', () =>
  check(mixed, [
    ['perm.w', true],
    ['perm.x', true],
    ['perm.p', false],
    ['perm == "rw"', false],
    ['perm == "rwx"', true],
    ['perm != "rwx"', false],
    ['perm contains "rw"', true],
    ['perm contains "p"', false],
    ['perm in {"r", "rwx"}', true],
  ]));

test('evaluate: an addr test holds when any page satisfies it; all addr when every page does', () =>
  check(mixed, [
    ['addr in {0x20000..0x2ffff}', true],
    ['addr in {0x0..0x1efff}', false],
    ['all addr in {0x20000..0x2ffff}', false],
    ['all addr in {0x1f000..0x21fff}', true],
    ['addr == 0x21000', true],
    ['addr == 0x22000', false],
    ['!(addr == 0x22000)', true],
    ['addr < 0x20000 && addr > 0x20000', true],
    ['all addr >= 0x1f000', true],
    ['all addr > 0x1f000', false],
    ['addr != 0x1f000', true],
    ['pages == 3', true],
  ]));

test('evaluate: dev, pasid, grpid and cookie come from the first record', () =>
  check(mixed, [
    ['dev == 2 && pasid in {1..4} && grpid == 1 && cookie == 9', true],
    ['pasid', true],
    ['pasid != 3', false],
  ]));

test('evaluate: without PASID_VALID every pasid comparison is false, != included', () =>
  check(noPasid, [
    ['pasid', false],
    ['!pasid', true],
    ['pasid == 3', false],
    ['pasid != 3', false],
    ['pasid >= 0', false],
    ['pasid in {0..4294967295}', false],
    ['!(pasid == 3)', true],
  ]));

test('evaluate: state, by, code and latency: absent while pending, known once answered', () => {
  check(mixed, [
    ['state == pending', true],
    ['by', false],
    ['by != user', false],
    ['code', false],
    ['code != 0', false],
    ['latency', false],
    ['latency < 1s', false],
    ['group > 0', false],
  ]);
  check({ ...mixed, state: 'success', by: 'policy', latencyNs: 1.5e6, group: 42 }, [
    ['state == success && by == policy && code == 0 && code == success', true],
    ['by != user', true],
    ['latency > 1ms && latency < 2ms', true],
    ['latency in {1us..1ms}', false],
    ['group == 42', true],
    ['state == pending', false],
  ]);
  check({ ...mixed, state: 'answered' }, [
    ['state == answered', true],
    ['code', false],
  ]);
});

test('evaluate: filterGroups keeps order and selects by the same rules', () => {
  const groups = [mixed, noPasid, { ...mixed, state: 'invalid' as const, by: 'user' as const }];
  assert.deepEqual(filterGroups(parseFilter('pasid && perm.w'), groups), [groups[0], groups[2]]);
  assert.deepEqual(filterGroups(parseFilter(''), groups), groups);
});

test('fault filter: the structured fields become one expression with the filter text', () => {
  assert.deepEqual(
    faultFilterExpr({
      filter: 'pages > 1',
      devId: 2,
      pasid: 3,
      perm: 'w',
      addrMin: '0x1000',
      addrMax: '0x1FFF',
      state: 'pending',
    }),
    parseFilter(
      'pages > 1 && dev == 2 && pasid == 3 && perm contains "w" && addr in {0x1000..0x1fff} && state == pending',
    ),
  );
  assert.deepEqual(faultFilterExpr({ addrMin: '0x10' }), parseFilter('addr >= 0x10'));
  assert.deepEqual(faultFilterExpr({ addrMax: '0x10' }), parseFilter('addr <= 0x10'));
  assert.deepEqual(faultFilterExpr({}), { kind: 'true' });
  assert.throws(
    () => faultFilterExpr({ filter: 'dev == 2 && pasid in {1..}' }),
    (err: unknown) =>
      err instanceof GrammarError && err.message === "filter: expected a number after '..' at 23",
  );
});

/** The groups as a session batch (group i + 1 is groups[i]); then some answered. */
function logOf(groups: FilterGroup[]): FaultLog {
  const log = new FaultLog({ startNs: 0 });
  const page = (r: FilterGroup['records'][number]) => ({
    devId: r.devId,
    pasid: r.flags & 1 ? r.pasid : null,
    grpid: r.grpid,
    perm: r.perm,
  });
  const b = makeBatch(
    groups.map((g, i) => ({
      group: i + 1,
      cookie: g.records[0]!.cookie,
      ...page(g.records[0]!),
      more: g.records.slice(1).map(page),
    })),
  );
  // Addresses are set as halves: they span all 64 bits.
  groups
    .flatMap((g) => g.records)
    .forEach((r, i) => {
      b.addrHi[i] = r.addrHi;
      b.addrLo[i] = r.addrLo;
    });
  log.ingest(b);
  const byName = ['user', 'policy', 'drain', 'kernel'] as const;
  log.ingest(
    answersBatch(
      groups.flatMap((g, i) =>
        g.state === 'success' || g.state === 'invalid'
          ? [
              {
                group: i + 1,
                code: g.state === 'success' ? (0 as const) : (1 as const),
                by: byName.indexOf(g.by!),
                latencyNs: g.latencyNs!,
              },
            ]
          : [],
      ),
    ),
  );
  return log;
}

test('fault log: its columnar facts select exactly what the plain evaluator selects (seeded)', () => {
  const r = prng(0x10f);
  const groups = Array.from({ length: 1500 }, (_, i) => {
    const g = randomGroup(r, i + 1);
    const k = Math.floor(r() * 3);
    if (k === 0) return g;
    const by = (['user', 'policy', 'drain', 'kernel'] as const)[Math.floor(r() * 4)]!;
    return {
      ...g,
      state: k === 1 ? ('success' as const) : ('invalid' as const),
      by,
      latencyNs: Math.floor(r() * 4e6) * 1e3,
    };
  });
  const log = logOf(groups);
  assert.equal(log.size, groups.length);
  for (let f = 0; f < 150; f++) {
    const text =
      r() < 0.5
        ? randomFilter(r)
        : `(${randomFilter(r, 2)}) ${r() < 0.5 ? '&&' : '||'} ${randomAnswerAtom(r)}`;
    const want = filterGroups(parseFilter(text), groups).map((g) => String(g.records[0]!.cookie));
    const got = log.query(0, 1000, { filter: text });
    assert.equal(got.total, want.length, `'${text}'`);
    assert.deepEqual(
      got.rows.map((row) => row.group),
      want.slice(0, 1000),
      `'${text}'`,
    );
  }
});

test('fault log: a multi-page row has the union perm; a later page matches addr; pending drains follow', () => {
  const log = logOf([mixed, { records: [{ ...mixed.records[0]!, cookie: 10, flags: 3 }] }]);
  assert.equal(log.detail(1)!.row.perm, 7, 'r | w | rx');
  assert.equal(log.detail(1)!.row.addr, '0x1f000', 'the row shows the first page');
  assert.equal(log.query(0, 10, { filter: 'addr == 0x21000' }).total, 1);
  assert.equal(log.query(0, 10, { filter: 'all addr < 0x20000' }).total, 1, 'the one-page group');
  assert.equal(log.query(0, 10, { perm: 'x' }).total, 1, 'the older perm field sees the union');
  assert.deepEqual(log.pendingMatching({ filter: 'perm.w' }), [1]);
  assert.throws(() => log.query(0, 10, { filter: 'dev ==' }), GrammarError);
});
