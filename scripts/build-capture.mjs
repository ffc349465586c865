// Builds native/build/capture/iommuscope-capture, the privileged capture
// helper (plain C++, no Node, no libraries beyond libc), with the system g++.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'native', 'capture');
const outDir = path.join(root, 'native', 'build', 'capture');
mkdirSync(outDir, { recursive: true });
const sources = readdirSync(src)
  .filter((f) => f.endsWith('.cc'))
  .sort()
  .map((f) => path.join(src, f));
const cxx = process.env.CXX || 'g++';
const args = [
  '-std=c++17',
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-D_GNU_SOURCE',
  '-o',
  path.join(outDir, 'iommuscope-capture'),
  ...sources,
];
const r = spawnSync(cxx, args, { stdio: 'inherit' });
if (r.error) {
  console.error(`iommuscope: cannot run ${cxx} (${r.error.message}): install g++ or set CXX`);
  process.exit(1);
}
process.exit(r.status ?? 1);
