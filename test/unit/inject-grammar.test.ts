import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInject, INJECT_DEFAULTS, parseInject } from '../../main/common/inject';
import { GrammarError } from '../../main/common/grammar-error';

test('inject: count alone takes the defaults', () => {
  assert.deepEqual(parseInject('count=10'), { ...INJECT_DEFAULTS, count: 10 });
});

test('inject: every key', () => {
  const s = parseInject(
    'count=1000,rate=250.5,pasids=1-4,devices=3,group=8,perm=rwxp,addr=0xABC000',
  );
  assert.deepEqual(s, {
    count: 1000,
    rate: 250.5,
    pasidMin: 1,
    pasidMax: 4,
    devices: 3,
    groupPages: 8,
    perm: 0xf,
    addr: '0xabc000',
  });
  assert.deepEqual(parseInject(formatInject(s)), s, 'format round-trips');
});

test('inject: outstanding=N, the sim PRI credit, parses and round-trips', () => {
  const s = parseInject('count=10,outstanding=2048');
  assert.equal(s.outstanding, 2048);
  assert.deepEqual(parseInject(formatInject(s)), s);
  assert.equal(parseInject('count=10').outstanding, undefined, 'absent: the queue default');
});

test('inject: single PASID and spaces around values', () => {
  const s = parseInject('count=2, pasids=7 ,perm=w');
  assert.equal(s.pasidMin, 7);
  assert.equal(s.pasidMax, 7);
  assert.equal(s.perm, 2);
});

const malformed: [string, RegExp][] = [
  ['', /empty/],
  ['rate=5', /count=N is required/],
  ['count=0', /out of range/],
  ['count=-1', /not a non-negative integer/],
  ['count=1.5', /not a non-negative integer/],
  ['count=abc', /not a non-negative integer/],
  ['count=1,count=2', /given twice/],
  ['count=1,speed=3', /unknown key 'speed'/],
  ['count=1,rate', /not key=value/],
  ['count=1,=3', /not key=value/],
  ['count=1,rate=-2', /not a non-negative number/],
  ['count=1,rate=1e3', /not a non-negative number/],
  // The native injector's floor: refused here as usage, not later as a failed kernel call.
  ['count=1,rate=0.00000000001', /rate 0\.00000000001 is below the minimum 0\.001/],
  ['count=1,pasids=4-1', /end is below the start/],
  ['count=1,pasids=1-2-3', /not A-B/],
  ['count=1,pasids=1-', /not A-B/],
  ['count=1,pasids=0-1048576', /out of range/],
  ['count=1,devices=0', /out of range/],
  ['count=1,group=0', /out of range/],
  ['count=1,group=513', /out of range/],
  ['count=1,outstanding=0', /outstanding 0 is out of range 1\.\.16777216/],
  ['count=1,outstanding=16777217', /out of range/],
  ['count=1,outstanding=-1', /not a non-negative integer/],
  ['count=1,perm=', /empty permission/],
  ['count=1,perm=rq', /unknown permission letter 'q'/],
  ['count=1,perm=rr', /repeated/],
  ['count=1,addr=1000', /not a hex address/],
  ['count=1,addr=0x', /not a hex address/],
  ['count=1,addr=0x10000000000000000', /not a hex address/],
  ['count=2,addr=0xfffffffffffff000', /past the 64-bit address space/],
];

for (const [text, why] of malformed) {
  test(`inject: rejects '${text}'`, () => {
    assert.throws(
      () => parseInject(text),
      (err: unknown) => {
        assert.ok(err instanceof GrammarError);
        assert.match(err.message, why);
        assert.match(err.message, /^--inject: /);
        assert.match(err.message, /expected count=N/, 'names the accepted form');
        return true;
      },
    );
  });
}

test('inject: the last page may end exactly at 2^64', () => {
  assert.equal(parseInject('count=1,addr=0xfffffffffffff000').addr, '0xfffffffffffff000');
});
