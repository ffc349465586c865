// `watch --record FILE` on the native simulator: the capture holds every
// batch including the final drain's, `replay --json` prints the same fault and
// response lines and totals as watch did, and an existing file is refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addonSkipReason } from './addon-available';

const root = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'iommuscope.js');

type Line = Record<string, unknown> & { type: string };
function cli(args: string[]): { status: number; lines: Line[]; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  const lines = (r.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  return { status: r.status ?? -1, lines, stderr: r.stderr ?? '' };
}
const events = (ls: Line[]): string[] =>
  ls
    .filter((l) => l.type === 'fault' || l.type === 'response')
    .map((l) => JSON.stringify(l))
    .sort();

test(
  'watch --record then replay --json: the same lines and totals; the drain is recorded; an existing file is refused',
  { skip: addonSkipReason() },
  () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-watch-rec-'));
    try {
      // Step: hold everything (2-page groups on 2 devices), so the exit drain answers all of them.
      const file = path.join(dir, 'held.pcapng.gz');
      const w = cli([
        'watch',
        '--source',
        'sim',
        '--inject',
        'count=600,group=2,devices=2,pasids=1-3',
        '--policy',
        'hold',
        '--json',
        '--record',
        file,
      ]);
      assert.equal(w.status, 0, w.stderr);
      assert.ok(existsSync(file));
      const ws = w.lines.at(-1)!;
      assert.equal(ws.groups, 300);
      assert.deepEqual(ws.answeredBy, { user: 0, policy: 0, drain: 300, kernel: 0 });

      // Step: replay prints exactly watch's fault and response lines (readNs included) and its totals.
      const r = cli(['replay', file, '--json', '--speed', 'max']);
      assert.equal(r.status, 0, r.stderr);
      const a = events(w.lines);
      const b = events(r.lines);
      assert.equal(a.length, 600 + 300);
      assert.deepEqual(b, a);
      const rs = r.lines.at(-1)!;
      for (const k of ['faults', 'groups', 'answered', 'success', 'invalid', 'pending', 'errors'])
        assert.equal(rs[k], ws[k], k);
      assert.deepEqual(rs.answeredBy, ws.answeredBy);
      assert.equal(rs.closed, true);

      // Negative: recording over an existing file is refused before anything is injected.
      const again = cli(['watch', '--source', 'sim', '--inject', 'count=10', '--record', file]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /--record .*held\.pcapng\.gz.*EEXIST.*choose another name/);
      assert.equal(again.lines.at(-1)!.faults, 0);
      // Negative: the dashboard records with its button, not a flag.
      const serve = cli(['serve', '--record', path.join(dir, 'x.pcapng.gz')]);
      assert.equal(serve.status, 2);
      assert.match(serve.stderr, /--record' is for watch only/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
