// The subcommand table: `iommuscope --help` lists every command without
// loading any command's modules (a start over 9p in the test VMs paid seconds
// for each), and each entry loads the command it names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(__dirname, '..', '..', '..');
const cliDir = path.join(root, 'dist', 'main', 'node', 'cli');
const commands = ['groups', 'watch', 'serve', 'start', 'replay', 'export', 'agent', 'activity'];

/** Runs main(argv) in a fresh node and returns which cli/ modules it loaded. */
function loadedCliModules(argv: string[]): { status: number; stdout: string; loaded: string[] } {
  const script = `
    const cli = ${JSON.stringify(cliDir)};
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = (s) => ((out += s), true);
    require(cli + '/main.js').main(${JSON.stringify(argv)}).then((status) => {
      const loaded = Object.keys(require.cache)
        .filter((f) => f.startsWith(cli + '/'))
        .map((f) => f.slice(cli.length + 1));
      write(JSON.stringify({ status, stdout: out, loaded }));
      process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { status: number; stdout: string; loaded: string[] };
}

test('cli: --help lists every command and loads none of their modules', () => {
  const r = loadedCliModules(['--help']);
  assert.equal(r.status, 0);
  for (const c of commands) assert.match(r.stdout, new RegExp(`^  ${c} +\\S`, 'm'));
  const loadedCommands = commands.filter((c) => r.loaded.includes(`${c}.js`));
  assert.deepEqual(loadedCommands, []);
});

for (const c of commands)
  test(`cli: '${c} --help' loads the ${c} command and prints its usage`, () => {
    const r = loadedCliModules([c, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`^usage: iommuscope ${c} `));
    assert.ok(r.loaded.includes(`${c}.js`), r.loaded.join(' '));
  });

test('cli: an unknown command is a usage error that loads no command', () => {
  const r = loadedCliModules(['wach']);
  assert.equal(r.status, 2);
  assert.deepEqual(
    commands.filter((c) => r.loaded.includes(`${c}.js`)),
    [],
  );
});
