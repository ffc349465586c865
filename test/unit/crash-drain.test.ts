import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { tryLoadAddon, addonSkipReason } from './addon-available';

const child = path.join(__dirname, 'crash-drain-child.js');

test('an uncaught exception answers every pending group INVALID before exit', (t) => {
  if (!tryLoadAddon()) return t.skip(addonSkipReason());
  const r = spawnSync(process.execPath, [child, '7'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.stdout.trim(), 'pending 7', r.stderr);
  assert.equal(r.status, 70, `exit status; stderr:\n${r.stderr}`);
  assert.match(r.stderr, /internal error: Error: simulated bug in a request handler/);
  assert.match(r.stderr, /answered 7 pending group\(s\) INVALID before exiting/);
});
