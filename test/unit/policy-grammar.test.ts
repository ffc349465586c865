import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describePolicy,
  formatAction,
  parsePolicy,
  parsePolicyRules,
} from '../../main/common/policy';
import { GrammarError } from '../../main/common/grammar-error';
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

test('policy rules: every match key, order kept, hex normalised', () => {
  const spec = parsePolicyRules({
    rules: [
      { dev: 1, pasid: '1-8', addr: '0x1000-0x1FFF', perm: 'w', notPerm: 'x', action: 'invalid' },
      { pasid: 9, action: 'delay=2ms' },
      { action: 'hold' },
    ],
    default: 'success',
  });
  assert.deepEqual(spec.rules[0], {
    devId: 1,
    pasidMin: 1,
    pasidMax: 8,
    addrMin: '0x1000',
    addrMax: '0x1fff',
    permAll: 2,
    permNone: 4,
    action: { kind: 'invalid' },
  });
  assert.deepEqual(spec.rules[1], {
    pasidMin: 9,
    pasidMax: 9,
    action: { kind: 'delay', ns: 2e6, code: 0 },
  });
  assert.deepEqual(spec.fallback, { kind: 'success' });
  assert.ok(policyCanHold(spec));
  assert.equal(describePolicy(spec).length, 4);
  assert.equal(
    JSON.stringify(JSON.parse(JSON.stringify(spec))),
    JSON.stringify(spec),
    'serialisable',
  );
});

test('policy rules: the native form carries bigint addresses', () => {
  const n = toNativePolicy(
    parsePolicyRules({ rules: [{ addr: '0xffffffffffff0000-0xffffffffffffffff', action: 'map' }] }),
  );
  assert.equal(n.rules[0]!.addrMin, 0xffffffffffff0000n);
  assert.equal(n.rules[0]!.addrMax, 0xffffffffffffffffn);
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
