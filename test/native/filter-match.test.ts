// The native policy matcher against the TypeScript evaluator: the same
// filters, compiled to NativeMatch, must select exactly the same groups;
// first on the matcher alone (mixed multi-page groups), then through the
// simulator's queue with a policy per filter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFilter } from '../../main/common/filter/parser';
import { filterGroups, matchGroup, type FilterGroup } from '../../main/common/filter/evaluate';
import { decodeFaultRecords } from '../../main/common/fault-record';
import { compileNativeMatch } from '../../main/node/native/compile-match';
import type { NativeMatch } from '../../main/node/native/addon-types';
import { waitFor } from '../shared/until';
import { encodeGroups, prng, randomFilter, randomGroup } from '../shared/random-filters';
import { addon, collect, spec } from './addon';

const SEED = 0x5eed_f117;
const compile = (text: string): NativeMatch =>
  compileNativeMatch(parseFilter(text, { readTimeOnly: true }));

function nativeSelect(match: NativeMatch, groups: FilterGroup[]): boolean[] {
  const { records, pages } = encodeGroups(groups);
  return Array.from(addon().matchGroups(match, records, pages), (b) => b === 1);
}

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

test('native matcher: the mixed 3-page group gives the same answers as the TS evaluator', () => {
  for (const [text, want] of [
    ['perm.w', true],
    ['perm == "rw"', false],
    ['perm == "rwx"', true],
    ['perm contains "rx"', true],
    ['perm.p', false],
    ['addr in {0x20000..0x2ffff}', true],
    ['all addr in {0x20000..0x2ffff}', false],
    ['all addr in {0x1f000..0x21fff}', true],
    ['addr < 0x20000 && addr > 0x20000', true],
    ['addr == 0x22000', false],
    ['addr != 0x1f000', true],
    ['pages == 3 && dev == 2 && pasid in {1..4} && grpid == 1 && cookie == 9', true],
  ] as const) {
    assert.equal(matchGroup(parseFilter(text), mixed), want, `TS: ${text}`);
    assert.deepEqual(nativeSelect(compile(text), [mixed]), [want], `native: ${text}`);
  }
});

test('native matcher: a group without PASID compares false on pasid, whatever the operator', () => {
  const noPasid: FilterGroup = {
    records: mixed.records.map((r) => ({ ...r, flags: r.flags & ~1 })),
  };
  for (const [text, want] of [
    ['pasid', false],
    ['pasid == 3', false],
    ['pasid != 3', false],
    ['pasid >= 0', false],
    ['!pasid', true],
    ['!(pasid == 3)', true],
  ] as const) {
    assert.equal(matchGroup(parseFilter(text), noPasid), want, `TS: ${text}`);
    assert.deepEqual(nativeSelect(compile(text), [noPasid]), [want], `native: ${text}`);
  }
});

test('native matcher: differential over 4000 random groups × 250 random filters (seeded)', () => {
  const r = prng(SEED);
  const groups = Array.from({ length: 4000 }, (_, i) => randomGroup(r, i + 1));
  const { records, pages } = encodeGroups(groups);
  let selected = 0;
  for (let f = 0; f < 250; f++) {
    const text = randomFilter(r);
    const ts = new Set(filterGroups(parseFilter(text), groups));
    const native = addon().matchGroups(compile(text), records, pages);
    for (let i = 0; i < groups.length; i++) {
      const want = ts.has(groups[i]!);
      if ((native[i] === 1) !== want) {
        assert.fail(
          `seed ${SEED} filter #${f} '${text}', group ${i} ${JSON.stringify(groups[i])}: ` +
            `TS ${want}, native ${native[i] === 1}`,
        );
      }
      if (want) selected++;
    }
  }
  // The filters must split the groups, or the comparison proves little.
  const rate = selected / (4000 * 250);
  assert.ok(
    rate > 0.15 && rate < 0.85,
    `selected ${(rate * 100).toFixed(1)}% of group/filter pairs`,
  );
});

test('native matcher: bad programs are refused with EARG naming the step', () => {
  const q = addon();
  const one = encodeGroups([mixed]);
  const bad = (match: unknown, why: RegExp): void => {
    assert.throws(
      () => q.matchGroups(match as NativeMatch, one.records, one.pages),
      (err: Error & { code?: string }) => err.code === 'EARG' && why.test(err.message),
    );
  };
  bad({}, /match must be an object \{ ops/);
  bad({ ops: [] }, /1 to 65536 steps/);
  bad({ ops: [{ op: 'and' }] }, /ops\[0\] pops 2 but only 0/);
  bad({ ops: [{ op: 'true' }, { op: 'true' }] }, /leaves 2 results/);
  bad({ ops: [{ op: 'nand' }] }, /'nand' is unknown/);
  bad({ ops: [{ op: 'in', field: 'state', ranges: [] }] }, /field must be one of dev/);
  bad(
    { ops: [{ op: 'in', field: 'dev', ranges: [[0n, 1n]], all: true }] },
    /'all' applies to addr/,
  );
  bad({ ops: [{ op: 'in', field: 'dev', ranges: [[2n, 1n]] }] }, /ranges\[0\] is empty/);
  bad({ ops: [{ op: 'in', field: 'dev', ranges: [[1n]] }] }, /must be a \[lo, hi\] pair/);
  bad({ ops: [{ op: 'present', field: 'dev' }] }, /'present' applies to pasid only/);
  bad({ ops: [{ op: 'bits', mask: 1 }] }, /want/);
  bad({ ops: Array.from({ length: 65 }, () => ({ op: 'true' })) }, /nests deeper than 64/);
  assert.throws(
    () => q.matchGroups(compile('dev == 1'), one.records, new Uint32Array([2])),
    /pages sum to 2/,
  );
  assert.throws(
    () => q.matchGroups(compile('dev == 1'), one.records, new Uint32Array([3, 0])),
    /pages\[1\] is 0/,
  );
});

test('native matcher: a policy naming a field not known at read time is refused before it reaches native', () => {
  assert.throws(
    () => compileNativeMatch(parseFilter('state == pending')),
    /a policy cannot use 'state'/,
  );
  assert.throws(
    () => compileNativeMatch(parseFilter('latency > 1ms')),
    /a policy cannot use 'latency'/,
  );
  const q = addon().createFaultQueue({ kind: 'sim' });
  try {
    assert.throws(
      () =>
        q.setPolicy({
          rules: [{ match: { ops: [] }, action: { kind: 'success' } }],
          fallback: { kind: 'hold' },
        }),
      /rules\[0\]\.match\.ops must hold 1 to 65536 steps/,
    );
  } finally {
    q.close();
  }
});

test('sim queue: a policy compiled from each random filter answers exactly the groups the TS evaluator selects', async () => {
  const r = prng(SEED + 1);
  const q = addon().createFaultQueue({ kind: 'sim', flushIntervalMs: 2 });
  const seen = collect(q);
  try {
    let groups = 0;
    for (let f = 0; f < 16; f++) {
      const text = randomFilter(r);
      q.setPolicy({
        rules: [{ match: compile(text), action: { kind: 'success' } }],
        fallback: { kind: 'invalid' },
      });
      const before = groups;
      // A few injections per filter, each with its own shape.
      for (let k = 0; k < 4; k++) {
        const groupPages = 1 + Math.floor(r() * 4);
        const n = 40 + Math.floor(r() * 30);
        const pasidMin = Math.floor(r() * 4);
        q.inject(
          spec({
            count: n * groupPages,
            groupPages,
            devices: 1 + Math.floor(r() * 3),
            pasidMin,
            pasidMax: pasidMin + Math.floor(r() * 3),
            perm: Math.floor(r() * 16),
            addr: [0x1e000n, 0x7fff_0000n, 0xffff_ffff_fff0_0000n][Math.floor(r() * 3)]!,
          }),
        );
        await waitFor(`filter ${f} injection ${k}`, () => q.injectProgress().done);
        groups += n;
      }
      await waitFor(`filter ${f}: ${groups} answered`, () => seen.answers.length === groups);
      // Every group of this round, from its records as read, by sequence
      // number (the kernel-exact sim reuses cookies as soon as they are answered).
      assert.equal(seen.reads.length, groups, 'every group read is in the read list once');
      const byGroup = new Map<number, FilterGroup>();
      for (const read of seen.reads.slice(before)) {
        assert.ok(read.records, `group ${read.group}: records delivered`);
        const recs = decodeFaultRecords(read.records);
        assert.equal(recs.length, read.pages);
        assert.ok(recs.every((x) => x.cookie === read.cookie));
        byGroup.set(read.group, { records: recs });
      }
      assert.equal(byGroup.size, groups - before, 'every group of the round was delivered');
      const filter = parseFilter(text);
      const answers = seen.answers.slice(before);
      assert.deepEqual(
        answers.map((a) => a.group).sort((x, y) => x - y),
        [...byGroup.keys()].sort((x, y) => x - y),
        'each group of the round answered once',
      );
      for (const a of answers) {
        const want = matchGroup(filter, byGroup.get(a.group)!) ? 0 : 1;
        assert.equal(a.code, want, `seed ${SEED + 1} filter '${text}' group ${a.group}`);
        assert.equal(a.rule, want === 0 ? 0 : -1);
      }
    }
    assert.ok(groups >= 2500, `${groups} groups compared`);
  } finally {
    q.stopInject();
    q.drain(1);
    q.close();
  }
});
