// Builds the small programs around the addon's native code with g++/gcc (no
// node-gyp, no N-API): the simulator's own tests, the fault FD conformance
// sequence (which runs against the kernel too) and the benchmarks' reference
// loops. core_mock_loop links the whole native core: it building here is the
// proof that the core needs no N-API.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
/** native/src: the addon's sources. */
export const NATIVE_SRC_DIR = path.join(repoRoot, 'native', 'src');

/** native/src files without N-API: the binding files around them convert to and from JS. */
export const NATIVE_CORE_SOURCES = [
  'anon_memory.cc',
  'answer_writer.cc',
  'errno_text.cc',
  'event_engine.cc',
  'fault_reader.cc',
  'group_seq.cc',
  'injector.cc',
  'kernel_channel.cc',
  'kernel_ioctls.cc',
  'native_thread.cc',
  'pending_table.cc',
  'policy.cc',
  'sim_channel.cc',
  'vevent_queue.cc',
] as const;

interface Program {
  cxx: readonly string[]; // C++ files, relative to the repository
  core?: readonly string[]; // native/src files linked in
  c?: readonly string[]; // C files, relative to the repository: gcc, then linked in
}

const MOCK_QUEUE = 'native/bench/mock_queue.c';
const programs = {
  fault_fd_conformance: {
    cxx: ['native/test/fault_fd_conformance.cc'],
    core: ['sim_channel.cc', 'kernel_channel.cc', 'kernel_ioctls.cc'],
  },
  sim_channel_test: {
    cxx: ['native/test/sim_channel_test.cc'],
    core: ['sim_channel.cc', 'kernel_channel.cc'],
  },
  native_thread_test: {
    cxx: ['native/test/native_thread_test.cc'],
    core: ['native_thread.cc'],
  },
  sim_fault_loop: { cxx: ['native/bench/sim_fault_loop.cc'], core: ['sim_channel.cc'] },
  c_fault_loop: { cxx: [], c: ['native/bench/c_fault_loop.c', MOCK_QUEUE] },
  core_mock_loop: {
    cxx: ['native/bench/core_mock_loop.cc'],
    core: NATIVE_CORE_SOURCES,
    c: [MOCK_QUEUE],
  },
} satisfies Record<string, Program>;
export type NativeProgram = keyof typeof programs;

const WARNINGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-Wno-missing-field-initializers'];

function compile(compiler: string, args: string[], what: string): void {
  const r = spawnSync(compiler, args, { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? `exit ${r.status}`;
    throw new Error(`${compiler} for ${what} failed (${why}):\n${r.stderr}`);
  }
}

/** Compile `name` into outDir; returns the binary's path or throws with the compiler's output. */
export function buildNativeProgram(name: NativeProgram, outDir: string): string {
  const p: Program = programs[name];
  const out = path.join(outDir, name);
  const include = `-I${NATIVE_SRC_DIR}`;
  const objects = (p.c ?? []).map((f) => {
    const o = path.join(outDir, `${name}-${path.basename(f, '.c')}.o`);
    compile('gcc', [...WARNINGS, include, '-c', path.join(repoRoot, f), '-o', o], name);
    return o;
  });
  const cxx = [
    ...p.cxx.map((f) => path.join(repoRoot, f)),
    ...(p.core ?? []).map((f) => path.join(NATIVE_SRC_DIR, f)),
  ];
  const linker = cxx.length ? ['g++', '-std=c++17'] : ['gcc'];
  compile(
    linker[0]!,
    [...linker.slice(1), ...WARNINGS, '-pthread', include, ...cxx, ...objects, '-o', out],
    name,
  );
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
