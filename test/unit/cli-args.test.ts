import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlags, UsageError, numberFlag } from '../../main/node/cli/args';
import { parseWatchArgs } from '../../main/node/cli/watch';

const spec = { name: { type: 'string', help: '' }, json: { type: 'boolean', help: '' } } as const;

test('args: values with space or =, booleans, positionals', () => {
  assert.deepEqual(parseFlags(['--name', 'a', '--json', 'pos'], spec), {
    flags: { name: 'a', json: true },
    positionals: ['pos'],
  });
  assert.deepEqual(parseFlags(['--name=b=c'], spec).flags, { name: 'b=c' });
  assert.deepEqual(parseFlags(['--', '--json'], spec).positionals, ['--json']);
});

test('watch args: --source mock --pasid A-B attaches a range; injection defaults to it', () => {
  const o = parseWatchArgs(['--source', 'mock', '--pasid', '5-7', '--inject', 'count=9']);
  assert.ok(o !== 'help');
  assert.equal(o.pasid, 5);
  assert.equal(o.pasidLast, 7);
  assert.equal(o.inject?.pasidMin, 5);
  assert.equal(o.inject?.pasidMax, 7);
  const one = parseWatchArgs(['--source', 'mock', '--pasid', '5', '--inject', 'count=1,pasids=9']);
  assert.ok(one !== 'help');
  assert.equal(one.pasidLast, undefined);
  assert.equal(one.inject?.pasidMin, 9, 'an explicit pasids= is kept (the source refuses it)');
});

for (const [argv, why] of [
  [['--nope'], /unknown option '--nope'/],
  [['-n'], /unknown option '-n'/],
  [['--name'], /needs a value/],
  [['--name', '--json'], /needs a value/],
  [['--name='], /empty value/],
  [['--json=1'], /takes no value/],
  [['--json', '--json'], /given twice/],
] as const) {
  test(`args: rejects ${argv.join(' ')}`, () => {
    assert.throws(
      () => parseFlags([...argv], spec),
      (e: unknown) => e instanceof UsageError && why.test(e.message),
    );
  });
}

test('args: numberFlag', () => {
  assert.equal(numberFlag('d', '1.5'), 1.5);
  assert.throws(() => numberFlag('c', '1.5', { integer: true }), /must be an integer/);
  assert.throws(() => numberFlag('c', '0', { integer: true, min: 1 }), /in 1\.\./);
});

test('watch args: defaults and a full mock line', () => {
  const o = parseWatchArgs([
    '--source',
    'mock',
    '--inject',
    'count=1000',
    '--policy',
    'success',
    '--json',
  ]);
  assert.notEqual(o, 'help');
  if (o === 'help') return;
  assert.equal(o.source, 'mock');
  assert.equal(o.inject?.count, 1000);
  assert.deepEqual(o.policy, { rules: [], fallback: { kind: 'success' } });
  assert.equal(o.drainCode, 1);
  assert.equal(o.json, true);
  const d = parseWatchArgs([]);
  assert.ok(d !== 'help' && d.source === 'sim' && d.policy.fallback.kind === 'invalid');
});

for (const [argv, why] of [
  [['--source', 'kernel'], /--source 'kernel' must be sim, mock, iommufd or vevent/],
  [['--source', 'iommufd'], /needs --device/],
  [['--device', '/dev/vfio/devices/vfio0'], /only for --source iommufd/],
  [['--pasid', '1'], /only for --source iommufd or mock/],
  [['--source', 'iommufd', '--device', 'x', '--pasid', '1-3'], /attaches one PASID/],
  [['--source', 'mock', '--pasid', '7-5'], /the end is below the start/],
  [['--source', 'mock', '--pasid', '1-100'], /at most 64 PASIDs/],
  [
    ['--source', 'iommufd', '--device', 'x', '--inject', 'count=1'],
    /--inject works with --source sim or mock/,
  ],
  [['--source', 'iommufd', '--device', 'x', '--pasid', '-1'], /needs a value|is not A-B or A/],
  [
    ['--source', 'iommufd', '--device', 'x', '--pasid', '1048576'],
    /--pasid 1048576 is out of range 1..1048575/,
  ],
  [['--inject', 'count=x'], /--inject: count 'x'/],
  [['--source', 'mock', '--inject', 'count=4,group=2'], /need --source sim/],
  [['--policy', 'maybe'], /--policy: unknown action 'maybe'/],
  [
    ['--policy', '@/nonexistent/rules.json'],
    /cannot open the rules file \/nonexistent\/rules.json: it does not exist/,
  ],
  [['--drain-code', '2'], /--drain-code '2' must be invalid or success/],
  [['--count', '0'], /--count '0'/],
  [['--duration', 'soon'], /--duration 'soon'/],
  [['extra'], /unexpected argument 'extra'/],
  [['--bogus'], /unknown option '--bogus'/],
] as const) {
  test(`watch args: rejects ${argv.join(' ')}`, () => {
    assert.throws(
      () => parseWatchArgs([...argv]),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.match(e.message, why);
        return true;
      },
    );
  });
}
