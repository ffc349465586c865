// `iommuscope activity` as a process: argument errors exit 2 with the
// reason; --no-helper runs on what the user can read (interrupts) and says
// the kernel log and tracepoints are off and how to fix it; NDJSON lines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const cli = path.resolve(__dirname, '..', '..', '..', 'bin', 'iommuscope.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, 'activity', ...args], { encoding: 'utf8', timeout: 30_000 });

test('bad arguments exit 2 naming the problem', () => {
  const bad = run('--device', 'foo');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--device 'foo' is not a PCI address/);
  assert.equal(run('--interval', '5').status, 2);
  assert.equal(run('extra').status, 2);
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /setcap cap_syslog,cap_perfmon,cap_dac_read_search\+ep/);
});

test('--no-helper --json: a helper source line with the fix, then rates lines', () => {
  const r = run('--no-helper', '--json', '--interval', '200', '--duration', '1.1');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; source?: string; ok?: boolean; fix?: string });
  const helper = lines.find((l) => l.type === 'source' && l.source === 'helper');
  assert.equal(helper?.ok, false);
  assert.match(helper?.fix ?? '', /build-native/);
  assert.equal(lines.find((l) => l.source === 'interrupts')?.ok, true);
  assert.ok(lines.filter((l) => l.type === 'rates').length >= 3);
});
