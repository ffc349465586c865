import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const child = path.join(__dirname, 'crash-drain-child.js');

// On the native simulator, or on the TS fake of its contract (see crash-drain-child.ts).
test('an uncaught exception answers every pending group INVALID before exit', () => {
  const r = spawnSync(process.execPath, [child, '7'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.stdout.trim(), 'pending 7', r.stderr);
  assert.equal(r.status, 70, `exit status; stderr:\n${r.stderr}`);
  assert.match(r.stderr, /internal error: Error: simulated bug in a request handler/);
  assert.match(r.stderr, /answered 7 pending group\(s\) INVALID before exiting/);
});
