import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { tapQueue } from '../../main/node/recording/batch-tap';
import { Recorder } from '../../main/node/recording/recorder';
import { RecordingControl } from '../../main/node/recording/recording-control';
import type { RequestError } from '../../main/common/request-error';
import { bufferSource } from '../../main/node/recording/bgzf';
import { readCapture } from '../../main/node/recording/capture-reader';
import { BatchAssembler } from '../../main/node/recording/batch-frames';
import type { FaultBatch } from '../../main/node/native/addon-types';
import { ContractQueue, plainBatch } from '../shared/contract-batches';
import { StubQueue } from '../shared/contract-queue-stub';
import { waitFor } from '../shared/until';

const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-recorder-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);
const batchesIn = (p: string): FaultBatch[] => {
  const asm = new BatchAssembler();
  const c = readCapture(bufferSource(readFileSync(p)));
  assert.equal(c.error, null, c.error?.message);
  return c.frames.flatMap((f) => asm.add(f)?.batch ?? []);
};

test('tap: the owner callback runs first, then every subscriber with the same batch', () => {
  const stub = new StubQueue(4);
  const seen: string[] = [];
  const errors: unknown[] = [];
  const tap = tapQueue(stub, (e) => errors.push(e));
  const off = tap.subscribe((b) => seen.push(`sub ${b.queue}`));
  tap.subscribe(() => {
    throw new Error('broken subscriber');
  });
  tap.queue.start((b) => seen.push(`owner ${b.queue}`));
  const q = new ContractQueue(4);
  q.read({ pages: 1 });
  stub.push(q.flush());
  assert.deepEqual(seen, ['owner 4', 'sub 4']);
  assert.match(String(errors[0]), /broken subscriber/);
  off();
  stub.push(q.flush());
  assert.deepEqual(seen, ['owner 4', 'sub 4', 'owner 4']);
  // Everything else goes to the real queue, with the real queue as receiver.
  assert.equal(tap.queue.id, 4);
  assert.equal(tap.queue.drain(1), 0);
  assert.deepEqual(tap.queue.totals(), q.flush().totals);
  tap.queue.close();
  assert.equal(tap.queue.closed, true);
  assert.deepEqual(stub.calls, ['drain 1']);
});

test('recorder: a tapped session stream is recorded batch for batch, with the set-up first', () => {
  const stub = new StubQueue(2);
  const tap = tapQueue(stub);
  tap.queue.start(() => {});
  const p = file('session.pcapng.gz');
  const rec = Recorder.start({ path: p, toolVersion: 't', subscribe: tap.subscribe });
  rec.session({ queue: 2, source: 'mock', policy: { fallback: { kind: 'success' } } });
  const q = new ContractQueue(2);
  const sent: FaultBatch[] = [];
  for (let i = 0; i < 5; i++) {
    const g = q.read({ pages: 1 + (i % 3), pasid: i });
    q.tick(1000);
    if (i % 2) q.answer({ group: g, code: 0, by: 1 });
    if (i === 2)
      q.error({ group: g, cookie: 1, code: 'EINVAL', errno: 22, op: 'write', message: 'refused' });
    const b = q.flush();
    sent.push(b);
    stub.push(b);
  }
  rec.policy(2, { fallback: { kind: 'invalid' } }, 'dashboard');
  const status = rec.stop('done');
  assert.equal(status.recording, false);
  assert.equal(status.pageRequests, 1 + 2 + 3 + 1 + 2);
  assert.equal(status.groups, 5);
  assert.equal(status.answers, 2);
  assert.equal(status.error, null);
  assert.deepEqual(batchesIn(p).map(plainBatch), sent.map(plainBatch));
  const kinds = readCapture(bufferSource(readFileSync(p))).frames.map((f) => f.kind);
  assert.deepEqual(
    [kinds[0], kinds[1], kinds.at(-2), kinds.at(-1)],
    ['header', 'session', 'policy', 'end'],
  );
  // After stop, batches are no longer recorded.
  stub.push(q.flush());
  assert.equal(rec.status().groups, 5);
});

test('recorder: a batch with answers is on disk at once; one without is on disk within the flush interval', async () => {
  const p = file('flush.pcapng.gz');
  const rec = Recorder.start({ path: p, toolVersion: 't', flushIntervalMs: 100 });
  const q = new ContractQueue(1);
  const g = q.read({ pages: 1 });
  q.answer({ group: g, code: 1, by: 0 });
  rec.batch(q.flush());
  assert.equal(batchesIn(p).length, 1);
  q.read({ pages: 1 });
  rec.batch(q.flush());
  assert.equal(batchesIn(p).length, 1, 'no answers: not flushed yet');
  await waitFor('timed flush', () => batchesIn(p).length === 2, 2000);
  rec.stop();
});

test('recorder: a file it cannot create or write is a clear error', () => {
  assert.throws(
    () => Recorder.start({ path: file('session.pcapng.gz'), toolVersion: 't' }),
    /exists/,
  );
  assert.throws(
    () => Recorder.start({ path: '/dev/full', toolVersion: 't', overwrite: true }),
    /cannot write the recording \/dev\/full \(ENOSPC\): the disk is full/,
  );
});

test('recorder: kill -9 while recording loses nothing that was reported recorded', async () => {
  const p = file('killed.pcapng.gz');
  const child = spawn(process.execPath, [path.join(__dirname, 'recorder-kill-child.js'), p], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let reported = 0;
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    const lines = s.trim().split('\n');
    reported = Number(lines.at(-1));
  });
  await waitFor('40 batches recorded', () => reported >= 40, 20_000);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const c = readCapture(bufferSource(readFileSync(p)));
  assert.equal(c.closed, false, 'no end-of-file marker after kill -9');
  assert.equal(c.error, null, 'writes are whole blocks: nothing torn');
  const asm = new BatchAssembler();
  const batches = c.frames.flatMap((f) => asm.add(f)?.batch ?? []);
  assert.ok(
    batches.length >= reported,
    `${batches.length} batches in the file, ${reported} reported`,
  );
  const last = batches.at(-1)!.totals;
  assert.equal(last.groups, batches.length * 21);
  assert.equal(last.answered, batches.length * 20);
  assert.equal(last.pending, batches.length);
  console.log(
    `killed after ${reported} reported batches: the file holds ${batches.length}, ${last.faults} page requests`,
  );
});

test('recording control: the Record button records the open session into its folder, one at a time', () => {
  const stub = new StubQueue(9);
  const tap = tapQueue(stub);
  tap.queue.start(() => {});
  const logs: string[] = [];
  const ctl = new RecordingControl({
    dir: path.join(dir, 'rec-dir'),
    toolVersion: 't',
    subscribe: tap.subscribe,
    log: (l) => logs.push(l),
  });
  assert.equal(ctl.status().recording, false);
  ctl.sessionOpened({ queue: 9, source: 'sim', policy: 'hold' });
  ctl.policyChanged(9, 'success', 'dashboard');
  assert.throws(
    () => ctl.start('../escape'),
    (e: RequestError) => e.code === 'EPARAMS' && /no folders/.test(e.message),
  );
  const st = ctl.start('bench-run');
  assert.equal(st.path, path.join(dir, 'rec-dir', 'bench-run.pcapng.gz'));
  assert.throws(
    () => ctl.start(),
    (e: RequestError) => e.code === 'ERECORDING',
  );
  const q = new ContractQueue(9);
  q.answer({ group: q.read({ pages: 3 }), code: 0, by: 1 });
  stub.push(q.flush());
  assert.equal(ctl.status().pageRequests, 3);
  const done = ctl.stop();
  assert.equal(done.recording, false);
  assert.equal(done.pageRequests, 3);
  const frames = readCapture(bufferSource(readFileSync(st.path!))).frames;
  // Started after the session opened and the policy changed: the set-up is still first, with the current policy.
  assert.deepEqual(frames[1], {
    kind: 'session',
    monoNs: (frames[1] as { monoNs: number }).monoNs,
    queue: 9,
    source: 'sim',
    policy: 'success',
  });
  assert.deepEqual(
    frames.map((f) => f.kind),
    ['header', 'session', 'read', 'answer', 'batch', 'end'],
  );
  assert.ok(logs.some((l) => l.includes('bench-run.pcapng.gz')));
  assert.equal(ctl.start().recording, true, 'a second recording after stop, default name');
  ctl.close();
});
