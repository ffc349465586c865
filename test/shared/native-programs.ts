// Builds the small C++ programs in native/test/ with g++ (no node-gyp): the
// simulator's own tests and the fault FD conformance sequence, which links
// the simulator and runs against the kernel too.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const src = (f: string) => path.join(repoRoot, 'native', 'src', f);

const programs = {
  fault_fd_conformance: ['sim_channel.cc', 'kernel_channel.cc', 'kernel_ioctls.cc'],
  sim_channel_test: ['sim_channel.cc', 'kernel_channel.cc'],
} as const;
export type NativeProgram = keyof typeof programs;

/** Compile `name` into outDir; returns the binary's path or throws with g++'s output. */
export function buildNativeProgram(name: NativeProgram, outDir: string): string {
  const out = path.join(outDir, name);
  const args = [
    '-std=c++17',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-Wno-missing-field-initializers',
    `-I${path.join(repoRoot, 'native', 'src')}`,
    path.join(repoRoot, 'native', 'test', `${name}.cc`),
    ...programs[name].map(src),
    '-lpthread',
    '-o',
    out,
  ];
  const r = spawnSync('g++', args, { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) {
    throw new Error(`g++ ${name} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  }
  return out;
}

/** One JSON line per step, as fault_fd_conformance prints them. */
export interface ConformanceStep {
  step: string;
  [field: string]: unknown;
}

export function parseTranscript(stdout: string): ConformanceStep[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ConformanceStep);
}

/** The kernel's transcript as recorded in the VM by test/vm/fault-fd-conformance.test.ts. */
export function kernelTranscriptPath(kernel: string): string {
  return path.join(repoRoot, 'test', 'fixtures', `fault-fd-conformance-${kernel}.jsonl`);
}
