// The replay timeline's core API through the same dispatch the transports
// use, on a recording written in-test by the real writer: pause, step, seek
// forward and back (the frame, the fault log and the stats after a seek back
// equal those of a fresh replay sought straight to that point), speed, play
// to the end; bad speeds, seeks outside the recording and a non-replay
// session are refused naming the fix. Then a recording uploaded in chunks
// (Electron's path): saved under a sanitized unique name and opened, over the
// cap refused, out-of-order chunks refused, a damaged file named by offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Frame } from '../../main/common/contract';
import { RECORDING_NAME } from '../../main/common/recording-contract';
import { UPLOAD_CHUNK_BYTES } from '../../main/common/replay-contract';
import { CoreService } from '../../main/node/dashboard/core-service';
import { dispatch } from '../../main/node/dashboard/dispatch';
import { uploadFileName } from '../../main/node/dashboard/replay-upload';
import { recordSession } from '../shared/recorded-session';
import { until } from '../shared/until';
import { addonSkipReason, tryLoadAddon } from './addon-available';
import { coreClient, staticHost } from '../shared/core-client';

const host = staticHost();

const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-replayctl-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
/** 10 batches 100 ms apart: 900 ms of recorded time, 3 groups read per batch. */
const rec = recordSession(path.join(dir, 'ten.pcapng.gz'), 10, 100);

function makeCore(recordingDir: string, extra: { maxUploadBytes?: number } = {}) {
  const core = new CoreService({ version: 'test', mode: 'browser', host, recordingDir, ...extra });
  const { raw, call, refused } = coreClient(core);
  return { core, raw, call, refused };
}

/** What the views show at this point: the frame (minus its sequence and sampled rate), rows, stats. */
async function viewsAt(c: ReturnType<typeof makeCore>) {
  const { seq: _seq, faultRate: _rate, replay, ...frame } = c.core.frames.full() as Frame;
  const rows = await c.call('faults.query', { offset: 0, limit: 1000 });
  const stats = await c.call('faults.stats', {});
  return { frame, rows, stats, position: replay?.positionMs, batch: replay?.batchIndex };
}

test('replay timeline: pause, step, seek back and forward match a fresh replay; speed; end', async () => {
  const c = makeCore(dir);
  try {
    // Negative: no session yet.
    assert.equal((await c.refused('replay.pause', {})).code, 'ENOSESSION');

    // Step: open from a path (what File > Open does), pause at once.
    const opened = await c.core.openReplayFile(rec.file);
    assert.equal(opened.source, 'replay');
    assert.equal(opened.file, 'ten.pcapng.gz');
    let s = await c.call('replay.pause', {});
    assert.equal(s.paused, true);
    assert.equal(s.durationMs, 900);
    assert.equal(s.batchCount, 10);
    assert.equal(s.closed, true);
    assert.equal(s.damage, null);
    assert.ok(Number.isFinite(s.startWallMs), 'wall clock of the recording');

    // Step: seek to 0 (the first batch is at 0 ms), then step one batch at a time.
    s = await c.call('replay.seek', { toMs: 0 });
    assert.equal(s.batchIndex, 1);
    s = await c.call('replay.step', {});
    assert.equal(s.batchIndex, 2);
    assert.equal(s.positionMs, 100);
    assert.equal(s.paused, true);

    // Step: seek forward to 450 ms: batches at 0..400 ms delivered, the totals are the 5th's.
    s = await c.call('replay.seek', { toMs: 450 });
    assert.equal(s.batchIndex, 5);
    assert.equal(s.positionMs, 450);
    const at450 = await viewsAt(c);
    assert.equal(at450.frame.totals.faults, rec.batches[4]!.totals.faults);
    assert.equal(at450.rows.total, 15);
    assert.ok(at450.frame.t === 450, `frame time is recorded time (${at450.frame.t})`);

    // Step: to the end and back: the views equal what they were at 450 ms.
    s = await c.call('replay.seek', { toMs: 900 });
    assert.equal(s.batchIndex, 10);
    assert.equal((await viewsAt(c)).frame.totals.faults, rec.batches[9]!.totals.faults);
    s = await c.call('replay.seek', { toMs: 450 });
    assert.equal(s.batchIndex, 5);
    assert.deepEqual(await viewsAt(c), at450);

    // Step: a fresh core, the same file sought straight to 450 ms: the same views.
    const fresh = makeCore(dir);
    try {
      await fresh.core.openReplayFile(rec.file);
      await fresh.call('replay.pause', {});
      await fresh.call('replay.seek', { toMs: 450 });
      assert.deepEqual(await viewsAt(fresh), at450);
    } finally {
      await fresh.core.close();
    }

    // Negative: bad speeds and seeks outside the recording name the range.
    const fast = await c.refused('replay.speed', { x: 32 });
    assert.equal(fast.code, 'ERANGE');
    assert.match(fast.message, /32× is outside 0\.25×\.\.16×/);
    assert.equal((await c.refused('replay.speed', { x: 0 })).code, 'ERANGE');
    assert.equal((await c.refused('replay.speed', { x: 'fast' })).code, 'EPARAMS');
    const past = await c.refused('replay.seek', { toMs: 901 });
    assert.equal(past.code, 'ERANGE');
    assert.match(past.message, /901 ms is outside the recording \(0\.\.900 ms/);
    assert.equal((await c.refused('replay.seek', { toMs: -1 })).code, 'ERANGE');
    assert.equal((await c.refused('replay.seek', {})).code, 'EPARAMS');

    // Step: speed 16, resume: plays to the end and says so.
    s = await c.call('replay.speed', { x: 16 });
    assert.equal(s.speed, 16);
    assert.equal(s.paused, true);
    await c.call('replay.resume', {});
    s = await until('the end', async () => {
      const st = await c.call('replay.state', {});
      return st.ended ? st : undefined;
    });
    assert.equal(s.batchIndex, 10);
    assert.equal(s.positionMs, 900);
    assert.equal(c.core.frames.full().replay?.ended, true);

    // Step: stepping at the end delivers nothing and says ended.
    s = await c.call('replay.step', {});
    assert.equal(s.batchIndex, 10);
    assert.equal(s.ended, true);

    // Step: opening another recording replaces the open replay.
    const again = await c.core.openReplayFile(rec.file);
    assert.equal(again.source, 'replay');
    await c.call('session.close', {});
    assert.equal(c.core.frames.full().replay, null);
  } finally {
    await c.core.close();
  }
});

test(
  'replay timeline: refused on a non-replay session; a dropped file is not opened over it',
  { skip: addonSkipReason() },
  async () => {
    const own = mkdtempSync(path.join(dir, 'sim-'));
    const core = new CoreService({
      version: 'test',
      mode: 'browser',
      host,
      recordingDir: own,
      sessionDefaults: { addon: tryLoadAddon()! },
    });
    try {
      core.openSession({ source: 'sim' });
      const r = await dispatch(
        core.handlers,
        { id: 1, method: 'replay.seek', params: { toMs: 0 } },
        { client: 't', emit: () => {} },
      );
      assert.equal(!r.ok && r.error.code, 'ENOTREPLAY');
      assert.match(!r.ok ? r.error.message : '', /session is sim, not a replay/);
      await assert.rejects(core.openReplayFile(rec.file), /a sim session is open: close it/);
      assert.throws(() => core.uploads.begin('x.pcapng.gz', 10), /a sim session is open/);
      assert.deepEqual(readdirSync(own), [], 'nothing was written');
      assert.equal(core.sessionState().source, 'sim');
    } finally {
      await core.close();
    }
  },
);

test('replay upload (contract chunks): saved under a sanitized unique name, opened; cap, order and damage refused', async () => {
  const own = mkdtempSync(path.join(dir, 'up-'));
  const bytes = readFileSync(rec.file);
  const c = makeCore(own, { maxUploadBytes: bytes.length + 10 });
  const send = async (name: string, data: Buffer, chunk = UPLOAD_CHUNK_BYTES) => {
    const { upload } = await c.call('replay.uploadBegin', { name, size: data.length });
    for (let off = 0; off < data.length; off += chunk) {
      const part = data.subarray(off, off + chunk);
      await c.call('replay.uploadChunk', { upload, offset: off, data: part.toString('base64') });
    }
    return c.raw('replay.uploadFinish', { upload });
  };
  try {
    // Step: a good file in small chunks opens as the replay session.
    const ok = await send('../../etc/my run.pcapng.gz', bytes, 1000);
    assert.ok(ok.ok, JSON.stringify(ok));
    const state = ok.ok ? (ok.result as { source: string; file: string }) : null;
    assert.equal(state?.source, 'replay');
    assert.match(state!.file, /^my_run-[0-9a-f]{8}\.pcapng\.gz$/);
    assert.ok(RECORDING_NAME.test(state!.file));
    assert.deepEqual(readdirSync(own), [state!.file], 'only the final file is left');
    assert.deepEqual(readFileSync(path.join(own, state!.file)), bytes);
    const rows = await until('the replayed groups', async () => {
      const q = await c.call('faults.query', { offset: 0, limit: 100 });
      return q.total > 0 ? q : undefined;
    });
    assert.ok(rows.total > 0);

    // Negative: over the cap, refused before any byte is kept; and a chunk that crosses it.
    const big = await c.refused('replay.uploadBegin', { name: 'big', size: bytes.length + 11 });
    assert.equal(big.code, 'ETOOLARGE');
    assert.match(big.message, /over the \d+-byte upload limit; copy it into/);
    const { upload } = await c.call('replay.uploadBegin', { name: 'liar', size: 5 });
    const crossing = Buffer.concat([bytes, Buffer.alloc(11)]);
    const over = await c.refused('replay.uploadChunk', {
      upload,
      offset: 0,
      data: crossing.subarray(0, Math.min(crossing.length, UPLOAD_CHUNK_BYTES)).toString('base64'),
    });
    assert.equal(over.code, 'ETOOLARGE');
    assert.equal((await c.refused('replay.uploadFinish', { upload })).code, 'ENOENT');

    // Negative: chunks out of order abort the upload.
    const second = await c.call('replay.uploadBegin', { name: 'order', size: 20 });
    const gap = await c.refused('replay.uploadChunk', {
      upload: second.upload,
      offset: 10,
      data: Buffer.alloc(10).toString('base64'),
    });
    assert.equal(gap.code, 'EPARAMS');
    assert.match(gap.message, /chunk at byte 10, expected 0/);

    // Step: damage in the middle: it opens, plays what is before the damage, names the offset.
    const damaged = Buffer.from(bytes);
    damaged[Math.floor(damaged.length / 2)]! ^= 0xff;
    const middle = await send('middle.pcapng.gz', damaged);
    assert.ok(middle.ok, JSON.stringify(middle));
    const hurt = await c.call('replay.state', {});
    assert.match(hurt.damage?.message ?? '', /corrupt BGZF block at byte \d+/);
    assert.ok(hurt.damage!.offset > 0 && hurt.damage!.offset < bytes.length);
    assert.ok(hurt.batchCount > 0 && hurt.batchCount < 10, `${hurt.batchCount} readable batches`);
    assert.equal(readdirSync(own).length, 2);

    // Negative: damage in the first block (the header): refused naming the offset, not kept.
    const headless = Buffer.from(bytes);
    headless[30]! ^= 0xff;
    const bad = await send('damaged.pcapng.gz', headless);
    assert.equal(!bad.ok && bad.error.code, 'ECORRUPT');
    assert.match(!bad.ok ? bad.error.message : '', /^damaged-[0-9a-f]{8}\.pcapng\.gz: .*byte \d+/);
    assert.match(c.core.sessionState().lastError ?? '', /byte \d+/);
    assert.equal(readdirSync(own).length, 2, 'the damaged upload was deleted');
  } finally {
    await c.core.close();
  }
});

test('upload names: only recording-name characters, never a folder, always unique', () => {
  assert.equal(uploadFileName('a b/c.pcapng.gz', 'ff'), 'c-ff.pcapng.gz');
  assert.equal(uploadFileName('..\\..\\evil.gz', 'ff'), 'evil-ff.pcapng.gz');
  assert.equal(uploadFileName('...', 'ff'), 'recording-ff.pcapng.gz');
  assert.equal(uploadFileName('', 'ff'), 'recording-ff.pcapng.gz');
  assert.equal(uploadFileName('x'.repeat(300)).length, 60 + 1 + 8 + '.pcapng.gz'.length);
  assert.ok(RECORDING_NAME.test(uploadFileName('ünï cödé.pcapng.gz')));
  assert.notEqual(uploadFileName('same'), uploadFileName('same'));
  assert.ok(!existsSync(path.join(dir, 'c-ff.pcapng.gz')));
});

test('replay timeline: pausing or changing speed between batches keeps the time reached', async () => {
  const slow = recordSession(path.join(dir, 'slow.pcapng.gz'), 3, 5000); // batches 5 s apart
  const c = makeCore(dir);
  try {
    await c.core.openReplayFile(slow.file);
    await until('the first batch', async () =>
      (await c.call('replay.state', {})).batchIndex === 1 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    // Step: speed 4 at ~300 ms: the time reached stays, then runs 4× faster.
    const faster = await c.call('replay.speed', { x: 4 });
    assert.ok(
      faster.positionMs >= 250,
      `position ${faster.positionMs} ms kept over the speed change`,
    );
    await new Promise((r) => setTimeout(r, 300));
    // Step: pause at ~300 + 4 × 300 ms: the timeline stands there, not back at the first batch.
    const held = await c.call('replay.pause', {});
    assert.equal(held.batchIndex, 1);
    assert.ok(
      held.positionMs >= faster.positionMs + 1000 && held.positionMs < 5000,
      `paused at ${held.positionMs} ms`,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      (await c.call('replay.state', {})).positionMs,
      held.positionMs,
      'paused: it holds',
    );
    // Step: resume and step from there: the next batch (at 5 s) comes next.
    const stepped = await c.call('replay.step', {});
    assert.equal(stepped.batchIndex, 2);
    assert.equal(stepped.positionMs, 5000);
  } finally {
    await c.core.close();
  }
});
