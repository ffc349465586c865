// The whole test suite: lint, format, type check, build, then every test file
// under one `node --test` run (unit, native, VM, UI, Electron).
// `npm test -- unit vm` runs only the named test folders after the checks;
// `--no-checks` skips lint, format and type checks.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(
  import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname),
  '..',
);
const suites = ['unit', 'native', 'vm', 'ui', 'electron'];
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--no-checks' && !suites.includes(a));
if (unknown.length) {
  // Otherwise a typo (or a file path) would silently run every suite.
  console.error(`unknown test folder(s): ${unknown.join(' ')}; choose from ${suites.join(' ')}`);
  process.exit(2);
}
const picked = args.filter((a) => suites.includes(a));
const skipChecks = args.includes('--no-checks');

function run(label, cmd, args) {
  console.log(`\n== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`== ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function testFiles(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(testFiles(full));
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
if (!skipChecks) {
  run('lint', bin('eslint'), ['--max-warnings', '0', '.']);
  run('format', bin('prettier'), ['--check', '.']);
  run('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  run('typecheck renderer', bin('vue-tsc'), ['-p', 'renderer/tsconfig.json', '--noEmit']);
}
run('build', 'npm', ['run', 'build', '--silent']);

const files = (picked.length ? picked : suites).flatMap((s) =>
  testFiles(path.join(root, 'dist', 'test', s)),
);
if (files.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}
run('tests', process.execPath, ['--test', '--test-reporter=spec', ...files]);
