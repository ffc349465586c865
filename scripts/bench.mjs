// `npm run bench:NAME` runs dist/bench/NAME.js after a build.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const name = process.argv[2];
if (!name || !/^[a-z]+$/.test(name)) {
  console.error('usage: node scripts/bench.mjs faults|sysfs|ui [args...]');
  process.exit(2);
}
const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status || 1);
const r = spawnSync(
  process.execPath,
  [path.join(root, 'dist', 'bench', `${name}.js`), ...process.argv.slice(3)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
