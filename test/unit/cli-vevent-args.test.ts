// `watch --source vevent` arguments: defaults, --depth / --virt-id / --inject
// ranges, flags that make no sense on a read-only queue, did-you-mean, and
// the CLI's exit 2 before anything is opened.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../main/node/cli/args';
import { parseWatchArgs, parseWatchCommand } from '../../main/node/cli/watch';
import { parseVeventInject } from '../../main/common/vevent-inject';
import { GrammarError } from '../../main/common/grammar-error';

const root = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'iommuscope.js');

function vevent(argv: string[]) {
  const o = parseWatchCommand(['--source', 'vevent', ...argv]);
  assert.ok(o !== 'help' && o.source === 'vevent');
  return o;
}

test('vevent args: defaults are the mock, depth 1024, virt id 1, text output', () => {
  const o = vevent([]);
  assert.equal(o.device, undefined);
  assert.equal(o.depth, 1024);
  assert.equal(o.virtId, 1n);
  assert.equal(o.json, false);
  assert.equal(o.inject, undefined);
});

test('vevent args: --depth, --virt-id (hex and decimal), --inject, --json, --count, --record', () => {
  const o = vevent(
    [
      '--depth',
      '8',
      '--virt-id',
      '0x99',
      '--inject',
      'count=20,rate=100,prefill=12',
      '--json',
    ].concat(['--count', '5', '--record', 'x.pcapng.gz']),
  );
  assert.equal(o.depth, 8);
  assert.equal(o.virtId, 0x99n);
  assert.deepEqual(o.inject, { count: 20, rate: 100, prefill: 12 });
  assert.equal(o.json, true);
  assert.equal(o.count, 5);
  assert.equal(o.record, 'x.pcapng.gz');
  assert.equal(vevent(['--virt-id', '153']).virtId, 153n);
  assert.equal(vevent(['--depth', '524288']).depth, 524288, 'the kernel maximum');
  const dev = vevent(['--device', '/dev/vfio/devices/vfio0', '--virt-id', '0xffffffffffffffff']);
  assert.equal(dev.virtId, (1n << 64n) - 1n, 'a real vDEVICE takes 64-bit ids');
});

for (const [argv, why] of [
  [['--depth', '0'], /--depth '0' must be an integer in 1..524288/],
  [['--depth', '524289'], /--depth '524289' must be an integer in 1..524288/],
  [['--depth', '8.5'], /--depth '8.5' must be an integer/],
  [['--virt-id', '0'], /selftest mock takes 1..0xffffffff/],
  [['--virt-id', '0x100000000'], /selftest mock takes 1..0xffffffff/],
  [['--virt-id', 'sid8'], /--virt-id 'sid8' must be a 64-bit integer/],
  [['--virt-id', '0x10000000000000000'], /must be a 64-bit integer/],
  [['--inject', 'count=0'], /--inject: count 0 is out of range/],
  [['--inject', 'cont=5'], /unknown key 'cont' \(did you mean 'count'\?\)/],
  [['--inject', 'count=5,prefill=6'], /prefill=6 is more than count=5/],
  [['--inject', 'rate=5'], /count=N is required/],
  [
    ['--device', '/dev/vfio/devices/vfio0', '--inject', 'count=1'],
    /--inject is for the selftest mock/,
  ],
  [['--policy', 'success'], /--policy is not for --source vevent: a vEVENTQ is read-only/],
  [['--pasid', '3'], /--pasid is not for --source vevent/],
  [['--filter', 'dev == 1'], /--filter is not for --source vevent/],
  [['--dpeth', '8'], /unknown option '--dpeth' \(did you mean '--depth'\?\)/],
  [['extra'], /unexpected argument 'extra'/],
] as const) {
  test(`vevent args: rejects ${argv.join(' ')}`, () => {
    assert.throws(
      () => parseWatchCommand(['--source', 'vevent', ...argv]),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.match(e.message, why);
        return true;
      },
    );
  });
}

test('negative: --depth / --virt-id with a fault source; a misspelt source gets a suggestion', () => {
  assert.throws(
    () => parseWatchArgs(['--source', 'mock', '--depth', '8']),
    /--depth is only for --source vevent/,
  );
  assert.throws(() => parseWatchArgs(['--virt-id', '1']), /--virt-id is only for --source vevent/);
  assert.throws(() => parseWatchCommand(['--source', 'vevnt']), /did you mean 'vevent'\?/);
});

test('vevent --inject grammar: whitespace, rate fractions, the grammar error names the form', () => {
  assert.deepEqual(parseVeventInject('count=3, rate=0.5'), { count: 3, rate: 0.5, prefill: 0 });
  assert.throws(
    () => parseVeventInject('count=3,count=4'),
    (e: unknown) =>
      e instanceof GrammarError && /given twice.*count=N\[,rate=R\]\[,prefill=K\]/.test(e.message),
  );
});

test('CLI: a bad --depth exits 2 naming the range, before opening /dev/iommu', () => {
  const r = spawnSync(process.execPath, [bin, 'watch', '--source', 'vevent', '--depth', '0'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--depth '0' must be an integer in 1..524288/);
});
