// ExitPaths with a fake process: the summary-once guarantee, repeated
// signals, the grace timeout, EPIPE, crash-in-crash, and the status mapping.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import {
  ExitPaths,
  ExitStatus,
  STOP_SIGNALS,
  statusFor,
  type ExitIo,
} from '../../main/node/cli/exit-paths';
import { dashboardSummary } from '../../main/node/cli/dashboard-exit';
import type { SessionSummary } from '../../main/node/session/fault-session';

class FakeStream extends EventEmitter {
  text = '';
  write(t: string, done?: (err?: Error | null) => void): boolean {
    this.text += t;
    done?.(null);
    return true;
  }
}

function fake(drained = 3) {
  const proc = new EventEmitter();
  const stdout = new FakeStream();
  const stderr = new FakeStream();
  const exits: number[] = [];
  const drains: (0 | 1)[] = [];
  const io: ExitIo = {
    proc,
    stdout,
    stderr,
    exit: (c) => void exits.push(c),
    drainAll: (c) => {
      drains.push(c);
      return drained;
    },
  };
  return { io, proc, stdout, stderr, exits, drains, paths: new ExitPaths('t', io) };
}

test('a stop signal calls onStop once; a second one only says it is still draining', () => {
  const f = fake();
  const reasons: string[] = [];
  const run = f.paths.begin({ drainCode: 1, onStop: (r) => reasons.push(r) });
  f.proc.emit('SIGHUP');
  f.proc.emit('SIGTERM');
  assert.deepEqual(reasons, ['SIGHUP']);
  assert.equal(run.stopReason, 'SIGHUP');
  assert.match(f.stderr.text, /SIGTERM: still draining/);
  run.end();
  for (const sig of STOP_SIGNALS) assert.equal(f.proc.listenerCount(sig), 0, `${sig} removed`);
});

test('the summary line is printed once, on stdout', () => {
  const f = fake();
  const run = f.paths.begin({ drainCode: 1, onStop: () => {} });
  run.summary({ type: 'summary', n: 1 });
  run.summary({ type: 'summary', n: 2 });
  assert.equal(f.stdout.text, '{"type":"summary","n":1}\n');
});

test('EPIPE on stdout: stops a run that asks for it, output dropped, summary on stderr', () => {
  const f = fake();
  const reasons: string[] = [];
  const run = f.paths.begin({
    drainCode: 1,
    onStop: (r) => reasons.push(r),
    stopOnStdoutClosed: true,
  });
  f.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  assert.deepEqual(reasons, ['EPIPE']);
  run.out('lost\n');
  run.summary({ type: 'summary' });
  assert.equal(f.stdout.text, '');
  assert.equal(f.stderr.text, '{"type":"summary"}\n');
  assert.deepEqual(f.exits, [], 'EPIPE is not a crash');
});

test('EPIPE does not stop a run that does not ask (serve: stdout only had the URL)', () => {
  const f = fake();
  const reasons: string[] = [];
  f.paths.begin({ drainCode: 1, onStop: (r) => reasons.push(r) });
  f.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  assert.deepEqual(reasons, []);
});

test('an uncaught exception drains with the run code, prints its summary, exits 70', () => {
  const f = fake(5);
  f.paths.begin({
    drainCode: () => 0,
    onStop: () => {},
    crashSummary: (c) => ({ type: 'summary', why: c.stopReason, drained: c.drained }),
  });
  f.proc.emit('uncaughtException', new Error('boom'));
  assert.deepEqual(f.drains, [0]);
  assert.deepEqual(f.exits, [ExitStatus.Internal]);
  assert.match(f.stderr.text, /internal error: Error: boom/);
  assert.match(f.stderr.text, /answered 5 pending group\(s\) SUCCESS before exiting/);
  assert.equal(f.stdout.text, '{"type":"summary","why":"internal error","drained":5}\n');
});

test('a crash outside any run still drains INVALID and prints a summary', () => {
  const f = fake(2);
  f.proc.emit('unhandledRejection', 'nope');
  assert.deepEqual(f.drains, [1]);
  assert.deepEqual(f.exits, [70]);
  assert.match(f.stdout.text, /"stopReason":"unhandled rejection".*"drained":2/);
});

test('a crash after the summary prints no second summary; a crash while crashing just exits', () => {
  const f = fake();
  const run = f.paths.begin({
    drainCode: 1,
    onStop: () => {},
    crashSummary: () => {
      throw new Error('summary bug');
    },
  });
  run.summary({ type: 'summary', first: true });
  f.proc.emit('uncaughtException', new Error('late'));
  f.proc.emit('uncaughtException', new Error('later'));
  assert.equal(f.stdout.text, '{"type":"summary","first":true}\n');
  assert.deepEqual(f.exits, [70, 70]);
  assert.deepEqual(f.drains, [1], 'drained once');
});

test('a graceful stop that hangs is forced after the grace time: drain, summary, exit 1', async () => {
  const f = fake(4);
  f.paths.begin({ drainCode: 1, onStop: () => {}, graceMs: 20 });
  f.proc.emit('SIGTERM');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(f.exits, [ExitStatus.Unclean]);
  assert.match(f.stdout.text, /"stopReason":"SIGTERM \(shutdown timed out\)".*"drained":4/);
});

test('statuses: clean 0, unclean 1; serve counts errors as unclean', () => {
  assert.equal(statusFor({ clean: true }), 0);
  assert.equal(statusFor({ clean: false }), 1);
  const base: SessionSummary = {
    faults: 5,
    groups: 5,
    answered: 5,
    success: 5,
    invalid: 0,
    pending: 0,
    errors: 0,
    overflow: 0,
    malformed: 0,
    reads: 1,
    byUser: 0,
    byPolicy: 0,
    byDrain: 0,
    byKernel: 0,
    by: { user: 0, policy: 5, drain: 0, kernel: 0 },
    teardownErrors: [],
  };
  assert.equal(dashboardSummary('SIGTERM', base).clean, true);
  assert.equal(dashboardSummary('SIGTERM', { ...base, errors: 207 }).clean, false);
  assert.equal(dashboardSummary('SIGTERM', { ...base, teardownErrors: ['x'] }).clean, false);
  assert.equal(dashboardSummary('SIGTERM', { ...base, pending: 1 }).clean, false);
  assert.deepEqual(dashboardSummary('SIGHUP', undefined), {
    type: 'summary',
    signal: 'SIGHUP',
    stopReason: 'SIGHUP',
    session: false,
    pending: 0,
    clean: true,
  });
});
