// `iommuscope watch` end to end on the simulator: spawn bin/iommuscope.js,
// parse its NDJSON and summary, send it signals.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addonSkipReason } from './addon-available';

const root = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'iommuscope.js');
const skip = addonSkipReason();

type Event = Record<string, unknown> & { type: string };

function run(args: string[]): { status: number; events: Event[]; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const stdout = r.stdout ?? '';
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event);
  return { status: r.status ?? -1, events, stdout, stderr: r.stderr ?? '' };
}

function summary(events: Event[]): Event {
  const last = events[events.length - 1];
  assert.equal(last?.type, 'summary', 'the summary is the last line');
  return last!;
}

test('watch sim --json: every fault and response as NDJSON, clean summary', { skip }, () => {
  const r = run([
    'watch',
    '--source',
    'sim',
    '--inject',
    'count=600,pasids=1-3,devices=2,group=3,perm=rw',
    '--policy',
    'success',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const faults = r.events.filter((e) => e.type === 'fault');
  const responses = r.events.filter((e) => e.type === 'response');
  assert.equal(faults.length, 600);
  assert.equal(responses.length, 200, 'one response per 3-page group');
  // Cookies are reused once answered (as the kernel does): the k-th answer
  // is for the k-th group read, whose three pages carry its cookie.
  assert.deepEqual(
    responses.map((e) => e.cookie),
    faults.filter((_, i) => i % 3 === 0).map((e) => e.cookie),
    'each group answered once, in read order',
  );
  assert.ok(faults.every((e, i) => e.cookie === faults[i - (i % 3)]?.cookie));
  assert.ok(faults.every((e) => e.perm === 'rw' && typeof e.addr === 'string'));
  assert.deepEqual([...new Set(faults.map((e) => e.pasid))].sort(), [1, 2, 3]);
  assert.deepEqual([...new Set(faults.map((e) => e.dev))].sort(), [1, 2]);
  const s = summary(r.events);
  assert.equal(s.faults, 600);
  assert.equal(s.groups, 200);
  assert.equal(s.answered, 200);
  assert.equal(s.success, 200);
  assert.equal(s.invalid, 0);
  assert.equal(s.pending, 0);
  assert.equal(s.errors, 0);
  assert.equal(s.clean, true);
});

test('watch sim: hold policy, drained INVALID at exit, still a clean run', { skip }, () => {
  const r = run(['watch', '--source', 'sim', '--inject', 'count=50', '--policy', 'hold']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /faults 50 .*pending 0/, 'readable summary line without --json');
  const s = summary(r.events);
  assert.equal(s.invalid, 50);
  assert.deepEqual(s.answeredBy, { user: 0, policy: 0, drain: 50, kernel: 0 });
});

test('watch sim: --count stops after N page requests read', { skip }, () => {
  const r = run([
    'watch',
    '--source',
    'sim',
    '--inject',
    'count=100000,rate=2000',
    '--count',
    '40',
    '--policy',
    'success',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const s = summary(r.events);
  assert.equal(s.stopReason, 'count');
  assert.ok((s.faults as number) >= 40 && (s.faults as number) < 100000);
  assert.equal(s.pending, 0);
});

test('watch sim: --duration stops, stats lines appear', { skip }, () => {
  const r = run([
    'watch',
    '--source',
    'sim',
    '--inject',
    'count=100000,rate=100',
    '--duration',
    '1.3',
    '--policy',
    'success',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.events.some((e) => e.type === 'stats'));
  assert.equal(summary(r.events).stopReason, 'duration');
});

test('watch sim: a rules file splits answers by PASID', { skip }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-rules-'));
  const file = path.join(dir, 'rules.json');
  writeFileSync(
    file,
    JSON.stringify({ rules: [{ pasid: '2', action: 'invalid' }], default: 'success' }),
  );
  const r = run([
    'watch',
    '--source',
    'sim',
    '--inject',
    'count=40,pasids=1-2',
    '--policy',
    `@${file}`,
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const s = summary(r.events);
  assert.equal(s.success, 20);
  assert.equal(s.invalid, 20);
  const rules = r.events.filter((e) => e.type === 'response').map((e) => e.rule);
  assert.equal(rules.filter((x) => x === 0).length, 20);
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`watch sim: ${sig} drains every held group and prints the summary`, { skip }, async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'watch',
        '--source',
        'sim',
        '--inject',
        'count=1000000,rate=500',
        '--policy',
        'hold',
        '--json',
      ],
      { cwd: root },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    const sawFaults = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        if ((out.match(/"type":"fault"/g) ?? []).length >= 10) resolve();
      });
    });
    await sawFaults;
    child.kill(sig);
    const status = await new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const events = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Event);
    const s = summary(events);
    assert.equal(status, 0, 'clean: everything answered by the drain');
    assert.equal(s.stopReason, sig);
    assert.equal(s.pending, 0);
    assert.ok((s.faults as number) >= 10);
    assert.equal(s.answered, s.groups);
    assert.equal((s.answeredBy as Record<string, number>).drain, s.groups);
    const responses = events.filter((e) => e.type === 'response');
    assert.equal(responses.length, s.groups, 'every drained group reported once');
  });
}

test('watch: usage errors exit 2 and name the problem', () => {
  for (const [args, why] of [
    [['watch', '--inject', 'count=0'], /count 0 is out of range/],
    [['watch', '--policy', 'later'], /unknown action 'later'/],
    [['watch', '--frobnicate'], /unknown option '--frobnicate'/],
    [['watch', '--source', 'mock', '--inject', 'count=2,devices=2'], /need --source sim/],
    [['nosuch'], /unknown command 'nosuch'/],
  ] as const) {
    const r = run([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
});

test('cli: --help, --version, watch --help', () => {
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^iommuscope \d+\.\d+\.\d+/);
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /watch/);
  const w = run(['watch', '--help']);
  assert.equal(w.status, 0);
  assert.match(w.stdout, /--inject SPEC/);
  assert.equal(run([]).status, 2, 'no command is a usage error');
});

test(
  'watch: without /dev/iommu the mock source names CONFIG_IOMMUFD',
  {
    skip:
      skip ??
      (existsSync('/dev/iommu')
        ? 'this machine has /dev/iommu (the test needs it absent)'
        : undefined),
  },
  () => {
    const r = run(['watch', '--source', 'mock', '--inject', 'count=1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\/dev\/iommu does not exist.*Fix: .*CONFIG_IOMMUFD/);
    assert.equal(summary(r.events).clean, false);
  },
);
