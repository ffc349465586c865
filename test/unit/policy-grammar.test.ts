import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  describePolicy,
  formatAction,
  parsePolicy,
  parsePolicyRules,
} from '../../main/common/policy';
import { GrammarError } from '../../main/common/grammar-error';
import { parseFilter } from '../../main/common/filter/parser';
import { matchGroup, type FilterGroup } from '../../main/common/filter/evaluate';
import { formatPolicyText, parsePolicyText } from '../../main/node/dashboard/policy-text';
import { prng, randomGroup } from '../shared/random-filters';
import { toNativePolicy, policyCanHold } from '../../main/node/session/native-specs';

test('policy: the single-word forms', () => {
  for (const w of ['success', 'invalid', 'hold', 'map'] as const) {
    assert.deepEqual(parsePolicy(w), { rules: [], fallback: { kind: w } });
  }
  assert.deepEqual(parsePolicy('delay=5ms').fallback, { kind: 'delay', ns: 5_000_000, code: 0 });
  assert.deepEqual(parsePolicy('delay=250us:invalid').fallback, {
    kind: 'delay',
    ns: 250_000,
    code: 1,
  });
  assert.deepEqual(parsePolicy('delay=1.5s').fallback, {
    kind: 'delay',
    ns: 1_500_000_000,
    code: 0,
  });
  assert.deepEqual(parsePolicy('delay=10ns:success').fallback, { kind: 'delay', ns: 10, code: 0 });
});

test('policy: formatAction round-trips', () => {
  for (const w of ['success', 'hold', 'delay=5ms', 'delay=3us:invalid', 'delay=7ns']) {
    assert.equal(formatAction(parsePolicy(w).fallback), w);
  }
});

for (const [text, why] of [
  ['', /unknown action/],
  ['sucess', /unknown action 'sucess'/],
  ['delay', /unknown action/],
  ['delay=', /not a duration/],
  ['delay=5', /not a duration/],
  ['delay=5m', /not a duration/],
  ['delay=-5ms', /not a duration/],
  ['delay=61s', /longer than 60 s/],
  ['delay=5ms:maybe', /must be success or invalid/],
] as const) {
  test(`policy: rejects '${text}'`, () => {
    assert.throws(
      () => parsePolicy(text),
      (err: unknown) => {
        assert.ok(err instanceof GrammarError);
        assert.match(err.message, why);
        return true;
      },
    );
  });
}

test('policy rules: the older keys compile to the filter language, order kept, hex normalised', () => {
  const spec = parsePolicyRules({
    rules: [
      { dev: 1, pasid: '1-8', addr: '0x1000-0x1FFF', perm: 'w', notPerm: 'px', action: 'invalid' },
      { pasid: 9, action: 'delay=2ms' },
      { action: 'hold' },
    ],
    default: 'success',
  });
  assert.deepEqual(
    spec.rules[0]!.match,
    parseFilter(
      'dev == 1 && pasid in {1..8} && all addr in {0x1000..0x1fff} && perm contains "w" && !perm.x && !perm.p',
    ),
  );
  assert.deepEqual(spec.rules[1], {
    match: parseFilter('pasid in {9}'),
    action: { kind: 'delay', ns: 2e6, code: 0 },
  });
  assert.deepEqual(spec.rules[2]!.match, { kind: 'true' }, 'no keys: every group');
  assert.deepEqual(spec.fallback, { kind: 'success' });
  assert.ok(policyCanHold(spec));
  assert.deepEqual(describePolicy(spec), [
    '#0 dev == 1 && pasid in {1..8} && all addr in {0x1000..0x1fff} && perm contains "w" && !perm.x && !perm.p → invalid',
    '#1 pasid in {9} → delay=2ms',
    '#2 any → hold',
    'default → success',
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec, 'serialisable');
});

/** What the older native matcher did with a rule's keys (the reference for "same meaning"). */
function oldMeaning(
  r: {
    dev?: number;
    pasid?: [number, number];
    addr?: [bigint, bigint];
    perm?: number;
    notPerm?: number;
  },
  g: FilterGroup,
): boolean {
  const first = g.records[0]!;
  const addrs = g.records.map((x) => (BigInt(x.addrHi) << 32n) | BigInt(x.addrLo));
  const perm = g.records.reduce((p, x) => p | x.perm, 0);
  const lo = addrs.reduce((a, b) => (b < a ? b : a));
  const hi = addrs.reduce((a, b) => (b > a ? b : a));
  if (r.dev !== undefined && first.devId !== r.dev) return false;
  if (r.pasid && (!(first.flags & 1) || first.pasid < r.pasid[0] || first.pasid > r.pasid[1]))
    return false;
  if (r.addr && (lo < r.addr[0] || hi > r.addr[1])) return false;
  if (r.perm !== undefined && (perm & r.perm) !== r.perm) return false;
  if (r.notPerm !== undefined && perm & r.notPerm) return false;
  return true;
}

test('policy rules: the older keys keep their meaning on random multi-page groups', () => {
  const rnd = prng(0xc0ffee);
  const groups = Array.from({ length: 600 }, (_, i) => randomGroup(rnd, i + 1));
  const letters = ['r', 'w', 'x', 'p', 'rw', 'wx'];
  const hexes = ['0x0', '0x1f000', '0x20000', '0x22fff', '0x100000000', '0xffffffffffffffff'];
  for (let k = 0; k < 200; k++) {
    const json: Record<string, unknown> = { action: 'success' };
    const ref: Parameters<typeof oldMeaning>[0] = {};
    if (rnd() < 0.4) json.dev = ref.dev = 1 + Math.floor(rnd() * 3);
    if (rnd() < 0.4) {
      const a = Math.floor(rnd() * 5);
      const b = a + Math.floor(rnd() * 3);
      json.pasid = `${a}-${b}`;
      ref.pasid = [a, b];
    }
    if (rnd() < 0.5) {
      const [a, b] = [hexes[Math.floor(rnd() * 6)]!, hexes[Math.floor(rnd() * 6)]!].sort((x, y) =>
        BigInt(x) < BigInt(y) ? -1 : 1,
      );
      json.addr = `${a}-${b}`;
      ref.addr = [BigInt(a!), BigInt(b!)];
    }
    for (const key of ['perm', 'notPerm'] as const) {
      if (rnd() < 0.4) {
        const l = letters[Math.floor(rnd() * letters.length)]!;
        json[key] = l;
        ref[key] = l
          .split('')
          .reduce((bits, c) => bits | ({ r: 1, w: 2, x: 4, p: 8 } as const)[c as 'r'], 0);
      }
    }
    const rule = parsePolicyRules({ rules: [json] }).rules[0]!;
    for (const g of groups) {
      assert.equal(
        matchGroup(rule.match, g),
        oldMeaning(ref, g),
        `${JSON.stringify(json)} on ${JSON.stringify(g)}`,
      );
    }
  }
});

test('policy rules: "match" takes filter text, and joins the older keys with &&', () => {
  const spec = parsePolicyRules({
    rules: [
      { match: 'pasid in {1..4} && !perm.x', action: 'invalid' },
      { match: 'addr >= 0x100000', dev: 2, action: 'map' },
      { match: '', action: 'hold' },
    ],
  });
  assert.deepEqual(spec.rules[0]!.match, parseFilter('pasid in {1..4} && !perm.x'));
  assert.deepEqual(spec.rules[1]!.match, parseFilter('addr >= 0x100000 && dev == 2'));
  assert.deepEqual(spec.rules[2]!.match, { kind: 'true' });
  assert.equal(
    formatPolicyText(spec),
    JSON.stringify({
      rules: [
        { match: 'pasid in {1..4} && !perm.x', action: 'invalid' },
        { match: 'addr >= 0x100000 && dev == 2', action: 'map' },
        { action: 'hold' },
      ],
      default: 'invalid',
    }),
  );
  assert.deepEqual(parsePolicyText(formatPolicyText(spec)), spec, 'the text form round-trips');
});

test('policy rules: the native form is a postfix program with bigint ranges', () => {
  const n = toNativePolicy(
    parsePolicyRules({
      rules: [
        { addr: '0xffffffffffff0000-0xffffffffffffffff', action: 'map' },
        { match: 'dev != 3 || perm.w', action: 'success' },
      ],
    }),
  );
  assert.deepEqual(n.rules[0]!.match, {
    ops: [
      { op: 'in', field: 'addr', ranges: [[0xffffffffffff0000n, 0xffffffffffffffffn]], all: true },
    ],
  });
  assert.deepEqual(n.rules[1]!.match, {
    ops: [
      {
        op: 'in',
        field: 'dev',
        ranges: [
          [0n, 2n],
          [4n, 0xffffffffn],
        ],
      },
      { op: 'bits', mask: 2, want: 2 },
      { op: 'or' },
    ],
  });
  assert.deepEqual(n.fallback, { kind: 'invalid' }, 'default without "default" is invalid');
});

for (const [json, why] of [
  [[], /top level: must be an object/],
  [null, /top level: must be an object/],
  [{ rule: [] }, /unknown key 'rule'/],
  [{ rules: {} }, /rules: must be an array/],
  [{ rules: [5] }, /rules\[0\]: must be an object/],
  [{ rules: [{}] }, /rules\[0\]: has no "action"/],
  [{ rules: [{ action: 'nope' }] }, /rules\[0\].action: unknown action/],
  [{ rules: [{ action: 3 }] }, /rules\[0\].action: must be a string/],
  [{ rules: [{ action: 'hold', devv: 1 }] }, /unknown key 'devv'/],
  [{ rules: [{ action: 'hold', dev: '1' }] }, /rules\[0\].dev: must be a number/],
  [{ rules: [{ action: 'hold', dev: -1 }] }, /rules\[0\].dev/],
  [{ rules: [{ action: 'hold', pasid: '3-1' }] }, /rules\[0\].pasid: .*below the start/],
  [{ rules: [{ action: 'hold', addr: 4096 }] }, /rules\[0\].addr: must be a string/],
  [{ rules: [{ action: 'hold', addr: '0x2000-0x1000' }] }, /below the start/],
  [{ rules: [{ action: 'hold', perm: 'z' }] }, /rules\[0\].perm: unknown permission letter/],
  [{ rules: [{ action: 'hold', notPerm: 1 }] }, /rules\[0\].notPerm: must be a string/],
  [{ rules: [], default: 'later' }, /default: unknown action/],
  [{ rules: [{ action: 'hold', match: 5 }] }, /rules\[0\].match: must be a string/],
  [
    { rules: [{ action: 'hold', match: 'dev == 2 && pasid in {1..}' }] },
    /rules\[0\].match: expected a number after '\.\.' at 23 in 'dev == 2 && pasid in \{1\.\.\}'/,
  ],
  [
    { rules: [{ action: 'hold', match: 'state == pending' }] },
    /rules\[0\].match: a policy cannot use 'state'/,
  ],
  [{ rules: [{ action: 'hold', match: 'latency > 1ms' }] }, /a policy cannot use 'latency'/],
] as const) {
  test(`policy rules: rejects ${JSON.stringify(json)}`, () => {
    assert.throws(
      () => parsePolicyRules(json, 'rules.json'),
      (err: unknown) => {
        assert.ok(err instanceof GrammarError);
        assert.match(err.message, /^rules\.json: /);
        assert.match(err.message, why);
        return true;
      },
    );
  });
}

test('README: the filter example and the rules file example are accepted as written', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Filters and rules'));
  const example = /\n {4}(dev == .*)\n/.exec(section)?.[1];
  assert.ok(example, 'the filter example is in the README');
  assert.doesNotThrow(() => parseFilter(example));
  const json = /\n {4}(\{\n[\s\S]*?\n {4}\})\n/.exec(section)?.[1];
  assert.ok(json, 'the rules example is in the README');
  const spec = parsePolicyRules(JSON.parse(json), 'README');
  assert.equal(spec.rules.length, 3);
  assert.doesNotThrow(() => toNativePolicy(spec));
});
