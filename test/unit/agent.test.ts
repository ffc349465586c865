import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { parseAgentArgs } from '../../main/node/cli/agent';
import { recordSession } from '../shared/recorded-session';
import { promtoolCheck, samples, sum } from '../shared/exposition';
import { until } from '../shared/until';

const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-agent-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'iommuscope.js');
const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');

test('agent: serves /metrics of a replayed session; the counters reach the recorded totals; promtool accepts it', async (t) => {
  const s = recordSession(path.join(dir, 'r.pcapng.gz'), 30, 20);
  const final = s.batches.at(-1)!.totals;
  const tokenFile = path.join(dir, 'token');
  const child = spawn(
    process.execPath,
    [
      bin,
      'agent',
      '--port',
      '0',
      '--token-file',
      tokenFile,
      '--source',
      'replay',
      '--replay',
      s.file,
      '--speed',
      '20',
      '--sysfs-root',
      path.join(fixtures, 'sysfs-caps'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const out: string[] = [];
  lines.on('line', (l) => out.push(l));
  try {
    const first = JSON.parse(await until('the listening line', () => out[0], 15_000)) as {
      url: string;
      tokenFile: string;
    };
    assert.equal(first.tokenFile, tokenFile);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    const scrape = async (): Promise<string> => {
      const r = await fetch(first.url, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200);
      return r.text();
    };
    const text = await until(
      'the recorded totals on /metrics',
      async () => {
        const body = await scrape();
        return sum(samples(body), 'iommuscope_groups_answered_total') === final.answered
          ? body
          : undefined;
      },
      15_000,
      50,
    );
    const m = samples(text);
    assert.equal(sum(m, 'iommuscope_page_requests_total'), final.faults);
    assert.equal(sum(m, 'iommuscope_groups_read_total'), final.groups);
    assert.equal(sum(m, 'iommuscope_groups_answered_total', { by: 'drain' }), final.byDrain);
    assert.equal(sum(m, 'iommuscope_groups_pending'), 0);
    assert.ok(sum(m, 'iommuscope_device_info') > 0, 'host topology from the fixture');
    const verdict = promtoolCheck(text);
    if ('skip' in verdict) t.diagnostic(verdict.skip);
    else assert.equal(verdict.status, 0, verdict.output);
    assert.equal((await fetch(first.url)).status, 401);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(out.at(-1)!) as Record<string, number>;
    assert.equal(summary.faults, final.faults);
  } finally {
    child.kill('SIGKILL');
  }
});

test('agent args: session flags need --source; replay needs a file; bad values are usage errors', () => {
  assert.throws(() => parseAgentArgs(['--policy', 'success']), /--policy needs --source/);
  assert.throws(() => parseAgentArgs(['--source', 'replay']), /needs --replay FILE/);
  assert.throws(
    () => parseAgentArgs(['--source', 'sim', '--replay', 'x']),
    /are for --source replay/,
  );
  assert.throws(() => parseAgentArgs(['--source', 'iommufd']), /needs --device/);
  assert.throws(() => parseAgentArgs(['--source', 'sim', '--policy', 'maybe']), /policy/);
  assert.throws(() => parseAgentArgs(['--port', '70000']), /--port/);
  const o = parseAgentArgs([
    '--source',
    'sim',
    '--inject',
    'count=10',
    '--policy',
    'success',
    '--max-series',
    '8',
  ]);
  assert.ok(
    o !== 'help' &&
      o.session?.source === 'sim' &&
      o.maxSeries === 8 &&
      o.session.inject?.count === 10,
  );
});
