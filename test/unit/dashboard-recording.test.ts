// The dashboard core's Record button, replay sessions and /metrics, on the
// native simulator, through the same dispatch the transports use: record a
// session, refuse a second recording and names with folders, count it in the
// metrics, then open the file as a replay session by name and see the same
// groups, answers refused (EROFS), and a missing file named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreService } from '../../main/node/dashboard/core-service';
import { samples, sum } from '../shared/exposition';
import { until } from '../shared/until';
import { addonSkipReason, tryLoadAddon } from './addon-available';
import { coreClient, staticHost } from '../shared/core-client';

const host = staticHost();

test(
  'sim: Record button, metrics, then the recording replayed as a dashboard session',
  { skip: addonSkipReason() },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-rec-'));
    const core = new CoreService({
      version: 'test',
      mode: 'browser',
      host,
      recordingDir: dir,
      sessionDefaults: { addon: tryLoadAddon()! },
    });
    const { raw, call } = coreClient(core);
    try {
      // Step: nothing recorded yet.
      assert.equal((await call('recording.status', {})).path, null);

      // Step: open sim answering success, start recording, inject 200 two-page groups.
      await call('session.open', { source: 'sim', policy: 'success' });
      const started = await call('recording.start', { name: 'run1' });
      assert.equal(started.recording, true);
      assert.equal(started.path, path.join(dir, 'run1.pcapng.gz'));
      // Negative: one recording at a time; names cannot leave the folder.
      const twice = await raw('recording.start', { name: 'run2' });
      assert.equal(!twice.ok && twice.error.code, 'ERECORDING');
      const escape = await raw('recording.start', { name: '../x' });
      assert.equal(!escape.ok && escape.error.code, 'EPARAMS');
      await call('inject.start', { spec: 'count=400,group=2,devices=2' });
      await until('200 groups answered', async () =>
        core.frames.full().totals.answered === 200 ? true : undefined,
      );

      // Step: the metrics registry counted exactly the session's totals.
      const text = await core.metrics.registry.metrics();
      assert.equal(sum(samples(text), 'iommuscope_page_requests_total'), 400);
      assert.equal(sum(samples(text), 'iommuscope_groups_answered_total'), 200);

      // Step: close the session (final drain), stop: the file counts every page request and answer.
      await call('session.close', {});
      const stopped = await call('recording.stop', {});
      assert.equal(stopped.recording, false);
      assert.equal(stopped.pageRequests, 400);
      assert.equal(stopped.groups, 200);
      assert.equal(stopped.answers, 200);
      assert.ok(existsSync(stopped.path!));

      // Step: open the file by name as a replay session: the same groups, all answered.
      const replay = await call('session.open', { source: 'replay', file: 'run1', speed: 1000 });
      assert.equal(replay.source, 'replay');
      assert.equal(replay.file, 'run1.pcapng.gz');
      assert.equal(replay.canInject, false);
      const rows = await until('200 replayed groups in the log', async () => {
        const q = await call('faults.query', { offset: 0, limit: 1000 });
        return q.total === 200 && q.rows.every((r) => r.state === 'success') ? q : undefined;
      });
      assert.equal(rows.rows[0]!.by, 'policy');
      // Negative: a replay writes no answers.
      const answer = await call('faults.respond', { groups: [rows.rows[0]!.group], code: 1 });
      assert.deepEqual(answer.ok, []);
      await call('session.close', {});

      // Negative: a missing recording and a path are refused, naming the problem.
      const missing = await raw('session.open', { source: 'replay', file: 'nope' });
      assert.equal(missing.ok, false);
      assert.match(!missing.ok ? missing.error.message : '', /nope\.pcapng\.gz.*ENOENT/);
      const folder = await raw('session.open', { source: 'replay', file: '../run1' });
      assert.equal(!folder.ok && folder.error.code, 'EPARAMS');
    } finally {
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
