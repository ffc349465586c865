import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ReplayQueue, type ReplayEvent } from '../../main/node/recording/replay-queue';
import { ReplaySource } from '../../main/node/sources/replay-source';
import { applyReplayKey } from '../../main/node/cli/replay-keys';
import { openSource } from '../../main/node/sources/open-source';
import type { FaultBatch } from '../../main/node/native/addon-types';
import { plainBatch } from '../shared/contract-batches';
import { recordSession } from '../shared/recorded-session';
import { waitFor } from '../shared/until';

const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-replay-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'iommuscope.js');

function collect(q: ReplayQueue): { got: FaultBatch[]; events: ReplayEvent[] } {
  const got: FaultBatch[] = [];
  const events: ReplayEvent[] = [];
  q.on((e) => events.push(e));
  q.start((b) => got.push(b));
  return { got, events };
}

test('replay: delivers the recorded batches exactly, then ends; totals and pending follow them', async () => {
  const s = recordSession(path.join(dir, 'a.pcapng.gz'), 12, 5);
  const q = new ReplayQueue(s.file, { speed: Infinity });
  assert.equal(q.id, 5);
  assert.equal(q.session()?.source, 'mock');
  assert.equal(q.index.batches, 12);
  assert.equal(q.index.closed, true);
  const { got, events } = collect(q);
  await waitFor('the end', () => q.done);
  assert.deepEqual(got.map(plainBatch), s.batches.map(plainBatch));
  assert.deepEqual(q.totals(), s.batches.at(-1)!.totals);
  assert.deepEqual(q.pending(), []);
  assert.deepEqual(events, [{ type: 'end', error: null }]);
  q.close();
});

test('replay: never writes; respond is refused with EROFS, drain answers nothing, inject throws', () => {
  const s = recordSession(path.join(dir, 'b.pcapng.gz'), 3, 5);
  const q = new ReplayQueue(s.file, { paused: true });
  q.start(() => {});
  assert.ok(q.step());
  const pending = q.pending();
  assert.equal(pending.length, 3);
  assert.equal(pending[1]!.records.byteLength, 80);
  assert.equal(pending[1]!.devId, 2);
  const r = q.respond([pending[0]!.group], 0);
  assert.deepEqual(r.ok, []);
  assert.equal(r.failed[0]!.code, 'EROFS');
  assert.match(r.failed[0]!.message, /replay.*nothing is written to a kernel/);
  assert.equal(q.drain(1), 0);
  assert.equal(q.pending().length, 3);
  assert.throws(() => q.inject(), /cannot inject/);
  q.close();
});

test('replay: paced by recorded time × speed', async () => {
  // 11 batches 40 ms apart = 400 ms recorded; at speed 2 at least ~200 ms.
  const s = recordSession(path.join(dir, 'c.pcapng.gz'), 11, 40);
  const q = new ReplayQueue(s.file, { speed: 2 });
  const t0 = performance.now();
  const { got } = collect(q);
  await waitFor('the end', () => q.done, 10_000);
  const ms = performance.now() - t0;
  assert.equal(got.length, 11);
  assert.ok(ms >= 190, `played in ${ms.toFixed(0)} ms, faster than recorded/2`);
  q.close();
});

test('replay: pause holds, step delivers one batch, seek forward catches up, seek back resets', async () => {
  const s = recordSession(path.join(dir, 'd.pcapng.gz'), 10, 100);
  const q = new ReplayQueue(s.file, { paused: true });
  const { got, events } = collect(q);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 0, 'paused: nothing delivered');
  assert.ok(q.step());
  assert.equal(got.length, 1);
  q.seek(s.deliveredNs[6]!);
  await waitFor('seek', () => got.length === 7);
  assert.equal(q.position().ns, s.deliveredNs[6]);
  assert.deepEqual(q.totals(), s.batches[6]!.totals);
  q.seek(s.deliveredNs[2]!);
  await waitFor(
    'seek back',
    () => events.some((e) => e.type === 'reset') && q.position().ns === s.deliveredNs[2],
  );
  // After the reset the stream starts over: batches 0..2 again, exactly.
  assert.deepEqual(got.slice(7).map(plainBatch), s.batches.slice(0, 3).map(plainBatch));
  assert.deepEqual(q.totals(), s.batches[2]!.totals);
  q.setSpeed(1000);
  q.resume();
  await waitFor('the end', () => q.done);
  assert.equal(got.length, 7 + 10);
  q.close();
});

test('replay: a torn recording plays every batch before the tear, then ends with the offset', async () => {
  const s = recordSession(path.join(dir, 'e.pcapng.gz'), 40, 5);
  const full = readFileSync(s.file);
  const torn = path.join(dir, 'torn.pcapng.gz');
  writeFileSync(torn, full.subarray(0, Math.floor(full.length * 0.6)));
  const q = new ReplayQueue(torn, { speed: Infinity });
  assert.equal(q.index.closed, false);
  assert.ok(q.index.error);
  const { got, events } = collect(q);
  await waitFor('the end', () => q.done);
  assert.ok(got.length > 0 && got.length < 40, `${got.length} batches`);
  assert.deepEqual(got.map(plainBatch), s.batches.slice(0, got.length).map(plainBatch));
  const end = events.find((e) => e.type === 'end');
  assert.ok(end && end.type === 'end' && end.error);
  assert.equal(end.error.offset, q.index.error.offset);
  q.close();
});

test('replay source: opened by openSource like sim/mock/iommufd, with no addon or kernel', () => {
  const s = recordSession(path.join(dir, 'f.pcapng.gz'), 2, 5);
  const src = openSource({ source: 'replay', replay: { file: s.file } });
  assert.ok(src instanceof ReplaySource);
  assert.equal(src.kind, 'replay');
  assert.equal(src.canInject, false);
  assert.deepEqual(src.objects(), { source: 'mock', nodes: [], edges: [] }, 'the recorded source');
  assert.deepEqual(src.close(), []);
  assert.equal(src.queue.closed, true);
  assert.throws(
    () => new ReplayQueue(s.file, { queue: 99 }),
    /no batches of queue 99 \(it has 5\)/,
  );
  assert.throws(
    () => new ReplayQueue(path.join(dir, 'missing')),
    /cannot open the recording .*ENOENT/,
  );
});

test('cli replay --json: fault/response lines carrying group, and the recorded totals in the summary', () => {
  const s = recordSession(path.join(dir, 'g.pcapng.gz'), 6, 5);
  const r = spawnSync(process.execPath, [bin, 'replay', s.file, '--json', '--speed', 'max'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /recorded on .* by iommuscope test, 6 batches/);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const faults = lines.filter((l) => l.type === 'fault');
  const responses = lines.filter((l) => l.type === 'response');
  const last = s.batches.at(-1)!.totals;
  assert.equal(faults.length, last.faults);
  assert.equal(responses.length, last.answered);
  assert.deepEqual(faults[1], {
    type: 'fault',
    group: '2',
    cookie: 2,
    dev: 2,
    pasid: 2,
    grpid: 2,
    perm: 'r',
    addr: '0x120000',
    length: 4096,
    flags: ['PASID_VALID'],
    readNs: s.batches[0]!.read.readNs[1],
  });
  assert.deepEqual(responses[0], {
    type: 'response',
    group: '1',
    cookie: 1,
    code: 'success',
    by: 'policy',
    rule: 0,
    latencyNs: 5e6,
  });
  const summary = lines.at(-1)!;
  assert.equal(summary.type, 'summary');
  assert.equal(summary.faults, last.faults);
  assert.equal(summary.byDrain, last.byDrain);
  assert.deepEqual(summary.answeredBy, {
    user: last.byUser,
    policy: last.byPolicy,
    drain: last.byDrain,
    kernel: 0,
  });
  assert.equal(summary.clean, true);
  assert.ok(lines.some((l) => l.type === 'note' && l.text === 'end of test session'));
});

test('cli replay: a damaged file exits 1 naming the byte; bad arguments exit 2', () => {
  const s = recordSession(path.join(dir, 'h.pcapng.gz'), 20, 5);
  const bad = Buffer.from(readFileSync(s.file));
  // The middle byte lands in a block header or in compressed data, depending on
  // the host name and times recorded in the file: both errors name the byte.
  bad[Math.floor(bad.length / 2)]! ^= 0xff;
  const file = path.join(dir, 'bad.pcapng.gz');
  writeFileSync(file, bad);
  const r = spawnSync(process.execPath, [bin, 'replay', file, '--speed', 'max'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /corrupt (BGZF block|data) at byte \d+/);
  const noFile = spawnSync(process.execPath, [bin, 'replay'], { encoding: 'utf8' });
  assert.equal(noFile.status, 2);
  assert.match(noFile.stderr, /which recording/);
  const badSpeed = spawnSync(process.execPath, [bin, 'replay', file, '--speed', 'fast'], {
    encoding: 'utf8',
  });
  assert.equal(badSpeed.status, 2);
});

test('replay keys: space pauses and resumes, . steps, arrows seek 10 s, + - change speed, q quits', async () => {
  const s = recordSession(path.join(dir, 'k.pcapng.gz'), 30, 1000); // 29 s recorded
  const q = new ReplayQueue(s.file, { paused: true });
  const { got, events } = collect(q);
  assert.equal(applyReplayKey(' ', q), 'playing');
  assert.equal(q.position().paused, false);
  assert.equal(applyReplayKey(' ', q), 'paused');
  const before = got.length; // the first batch is due at once when playing starts
  assert.equal(applyReplayKey('.', q), 'stepped');
  assert.equal(got.length, before + 1);
  const at = q.position().ns;
  assert.equal(applyReplayKey('\u001b[C', q), 'seek +10 s');
  await waitFor('seek', () => q.position().ns === at + 10e9);
  assert.equal(got.length, before + 11, 'ten more 1 s batches');
  assert.equal(applyReplayKey('\u001b[D', q), 'seek -10 s');
  await waitFor(
    'seek back',
    () => events.some((e) => e.type === 'reset') && q.position().ns === at,
  );
  assert.equal(applyReplayKey('+', q), 'speed 2');
  assert.equal(applyReplayKey('-', q), 'speed 1');
  assert.equal(applyReplayKey('q', q), 'quit');
  assert.equal(applyReplayKey('x', q), null);
  q.close();
});
