// `iommuscope watch` end to end on the simulator: spawn bin/iommuscope.js,
// parse its NDJSON, text lines and summary, send it signals; and in-process
// (runWatch) on the TypeScript fake of the queue contract, and on the native
// simulator for 2,000,000 held groups drained with exact answerer counts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addonSkipReason, tryLoadAddon } from './addon-available';
import { fakeSimAddon } from '../shared/fake-fault-queue';
import { parseWatchArgs, runWatch, type WatchEnv } from '../../main/node/cli/watch';
import type { NativeAddon } from '../../main/node/native/addon-types';

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

/** Every group read appears in fault events and is answered by exactly one response, by group. */
function assertGroupsExact(faults: Event[], responses: Event[], groups: number): void {
  assert.ok(faults.every((e) => typeof e.group === 'string' && /^[1-9][0-9]*$/.test(e.group)));
  const read = new Set(faults.map((e) => e.group));
  assert.equal(read.size, groups, 'groups read');
  const answered = responses.map((e) => e.group);
  assert.equal(new Set(answered).size, answered.length, 'no group answered twice');
  assert.deepEqual([...answered].sort(), [...read].sort(), 'every group read is answered');
}

const FAULT_LINE =
  /^\d\d:\d\d:\d\d\.\d{6} group (\d+) dev \d+ pasid (\d+|-) grp \d+ cookie \d+ [r-][w-][x-]p? 0x[0-9a-f]+ \+\d+p$/;
const ANSWER_LINE =
  /^\d\d:\d\d:\d\d\.\d{6} group (\d+) (success|invalid) by (user|policy rule \d+|policy default|drain|kernel) [\d.]+(us|ms|s)$/;

/** Text mode: one line per group read and one per answer, tcpdump style. */
function assertTextLines(stdout: string, groups: number, answer: RegExp): void {
  const lines = stdout.split('\n');
  const reads = lines.filter((l) => FAULT_LINE.test(l)).map((l) => FAULT_LINE.exec(l)![1]);
  const answers = lines.filter((l) => ANSWER_LINE.test(l));
  assert.equal(reads.length, groups, `a line per group:\n${stdout.slice(0, 400)}`);
  assert.equal(new Set(reads).size, groups);
  assert.equal(answers.length, groups, 'a line per answer');
  assert.ok(
    answers.every((l) => answer.test(l)),
    answers[0],
  );
  assert.deepEqual(
    answers.map((l) => ANSWER_LINE.exec(l)![1]).sort(),
    [...reads].sort(),
    'each group answered once',
  );
}

/** runWatch in this process, its output captured. */
async function runIn(
  args: string[],
  env: WatchEnv,
): Promise<{ status: number; events: Event[]; stdout: string }> {
  const opts = parseWatchArgs(args);
  assert.notEqual(opts, 'help');
  const chunks: string[] = [];
  const out = { write: (c: string) => (chunks.push(c), true), once: () => out };
  const status = await runWatch(opts as Exclude<typeof opts, 'help'>, { ...env, out });
  const stdout = chunks.join('');
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event);
  return { status, events, stdout };
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
  assertGroupsExact(faults, responses, 200);
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
  assertTextLines(r.stdout, 50, /invalid by drain/);
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
    assertGroupsExact(
      events.filter((e) => e.type === 'fault'),
      responses,
      s.groups as number,
    );
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

test('watch (fake sim, in-process) --json: group on every fault and response, exact answerer counts', async () => {
  const r = await runIn(
    [
      '--source',
      'sim',
      '--inject',
      'count=3000,devices=2,group=3',
      '--policy',
      'success',
      '--json',
    ],
    { addon: fakeSimAddon() },
  );
  assert.equal(r.status, 0);
  const faults = r.events.filter((e) => e.type === 'fault');
  const responses = r.events.filter((e) => e.type === 'response');
  assert.equal(faults.length, 3000);
  assertGroupsExact(faults, responses, 1000);
  assert.ok(responses.every((e) => e.by === 'policy' && e.rule === -1 && e.code === 'success'));
  const s = summary(r.events);
  assert.deepEqual(s.answeredBy, { user: 0, policy: 1000, drain: 0, kernel: 0 });
  assert.equal(s.answered, 1000);
});

test('watch (fake sim, in-process): 100,000 held groups drained, answerer counts exact', async () => {
  const r = await runIn(['--source', 'sim', '--inject', 'count=100000', '--policy', 'hold', '-q'], {
    addon: fakeSimAddon(),
    outstandingLimit: 200_000,
  });
  assert.equal(r.status, 0);
  const s = summary(r.events);
  assert.equal(s.answered, 100_000);
  assert.deepEqual(s.answeredBy, { user: 0, policy: 0, drain: 100_000, kernel: 0 });
  // -q: no line per group, only the status line(s).
  assert.ok(!FAULT_LINE.test(r.stdout.split('\n')[0]!));
  assert.match(r.stdout, /answered 100000 .*drain 100000/);
});

test(
  'watch sim --inject outstanding=N: a held run stops at N groups (the PRI credit), then drains',
  { skip },
  () => {
    // count is far beyond the credit: without it the sim would inject all of them.
    for (const credit of [37, 3000]) {
      const r = run([
        ...['watch', '--source', 'sim', '--inject', `count=1000000000,outstanding=${credit}`],
        ...['--policy', 'hold', '--duration', '0.5', '-q'],
      ]);
      assert.equal(r.status, 0, r.stderr);
      const s = summary(r.events);
      assert.equal(s.faults, credit, `credit ${credit}`);
      assert.equal(s.injected, credit);
      assert.deepEqual(s.answeredBy, { user: 0, policy: 0, drain: credit, kernel: 0 });
    }
    const mock = run(['watch', '--source', 'mock', '--inject', 'count=3,outstanding=5']);
    assert.equal(mock.status, 2);
    assert.match(mock.stderr, /outstanding=N needs --source sim/);
  },
);

test('watch (fake sim, in-process) text mode: a tcpdump-style line per group and per answer', async () => {
  const rules = path.join(mkdtempSync(path.join(os.tmpdir(), 'iommuscope-rules-')), 'r.json');
  writeFileSync(
    rules,
    JSON.stringify({ rules: [{ pasid: '2', action: 'invalid' }], default: 'success' }),
  );
  const r = await runIn(
    ['--source', 'sim', '--inject', 'count=40,pasids=1-2', '--policy', `@${rules}`],
    { addon: fakeSimAddon() },
  );
  assert.equal(r.status, 0);
  assertTextLines(r.stdout, 40, /(success by policy default|invalid by policy rule 0)/);
  assert.equal(r.stdout.split('\n').filter((l) => / invalid by policy rule 0 /.test(l)).length, 20);
});

test(
  'watch sim: 2,000,000 held groups drained at exit, answerer counts exact (native queue)',
  { skip },
  async () => {
    const addon: NativeAddon = tryLoadAddon()!;
    const r = await runIn(
      ['--source', 'sim', '--inject', 'count=2000000', '--policy', 'hold', '-q'],
      { addon, outstandingLimit: 2_100_000 },
    );
    const s = summary(r.events);
    assert.equal(r.status, 0, JSON.stringify(s));
    assert.equal(s.groups, 2_000_000);
    assert.equal(s.answered, 2_000_000);
    assert.deepEqual(s.answeredBy, { user: 0, policy: 0, drain: 2_000_000, kernel: 0 });
    assert.equal(s.pending, 0);
  },
);
