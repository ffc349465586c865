// Every `iommuscope ...` line in README.md, run as the README says to run it
// from a checkout (node bin/iommuscope.js). A synopsis line ([optional],
// a|b choices, ...) is checked against the command's --help: each option it
// names must exist. A concrete line is run on the simulator; a line that
// would run forever (start, serve) is run until its URL appears, then
// stopped with SIGTERM, on a free port (--port 0) so parallel runs do not
// collide. A line needing hardware this machine lacks must fail with the
// message naming the missing piece.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { addonSkipReason } from './addon-available';

const repo = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(repo, 'bin', 'iommuscope.js');
const skip = addonSkipReason();

/** `iommuscope ...` lines of the README's indented code blocks, comments dropped. */
export function readmeExamples(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((l) => /^ {4}iommuscope( |$)/.test(l))
    .map((l) => l.replace(/\s+#.*$/, '').trim());
}

const examples = readmeExamples(readFileSync(path.join(repo, 'README.md'), 'utf8'));

test('the README has iommuscope examples and says how to run the CLI from a checkout', () => {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  assert.ok(examples.length >= 6, `found ${examples.length}`);
  assert.match(readme, /alias iommuscope="node \$PWD\/bin\/iommuscope\.js"/);
  assert.doesNotMatch(readme.replace(/`npx iommuscope` is not the way/, ''), /npx iommuscope/);
});

function run(args: string[], timeout = 30_000) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout,
    maxBuffer: 256 << 20,
  });
}

const isSynopsis = (line: string): boolean => /[[\]|]|\.\.\./.test(line);

for (const line of examples) {
  const args = line.split(/\s+/).slice(1);
  const command = args[0];
  if (isSynopsis(line)) {
    test(`README synopsis: ${line} (every option exists in --help)`, () => {
      const help = run([command!, '--help']);
      assert.equal(help.status, 0, help.stderr);
      for (const opt of line.match(/--[a-z-]+/g) ?? [])
        assert.ok(help.stdout.includes(opt), `${command} --help lists ${opt}`);
    });
    continue;
  }
  if (command === 'start' || command === 'serve') {
    test(`README example: ${line} (until its URL, then SIGTERM)`, { skip }, async () => {
      const child = spawn(process.execPath, [bin, ...args, '--port', '0'], { cwd: repo });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      while (!/^http:\/\/127\.0\.0\.1:\d+\/\S+\n/.test(out) && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      const status = await exited;
      clearTimeout(killer);
      assert.equal(status, 0, err);
      assert.match(out, /"type":"summary"/);
    });
    continue;
  }
  const vevent = line.includes('--source vevent');
  const needsMock = line.includes('--source mock') || (vevent && !line.includes('--device'));
  const needsDevice = line.includes('--source iommufd') || (vevent && line.includes('--device'));
  test(`README example: ${line}`, { skip }, () => {
    const r = run(args, 60_000);
    assert.equal(r.signal, null, 'finished by itself');
    if (needsMock && !existsSync('/dev/iommu')) {
      assert.equal(r.status, 1);
      assert.match(r.stderr, /\/dev\/iommu does not exist.*Fix:/);
      return;
    }
    if (needsDevice) {
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Fix:/);
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"type":"summary".*"clean":true/);
  });
}
