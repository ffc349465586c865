// Instructions per fault that load on the machine cannot move: valgrind
// --tool=callgrind counts user-space instructions in all threads of
//   the sim pipeline  (node dist/bench/faults-sim-pipeline.js N), and
//   a C++ loop on the same SimChannel (native/bench/sim_fault_loop.cc);
// each is run at N and at a small N0, and (I(N) - I(N0)) / (N - N0) removes start-up.
import { spawnSync } from 'node:child_process';
import { buildNativeProgram } from '../test/shared/native-programs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const TIMEOUT_MS = 240_000; // one callgrind run of node on a loaded host

export interface CallgrindResult {
  n: number;
  n0: number;
  oursPerFault: number;
  cPerFault: number;
  ratio: number;
}

function instructions(dir: string, tag: string, argv: string[]): number {
  const out = path.join(dir, `callgrind.${tag}.out`);
  const r = spawnSync(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${out}`, '--dump-instr=no', ...argv],
    { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 << 20 },
  );
  if (r.status !== 0)
    throw new Error(
      `callgrind ${argv.join(' ')}: exit ${r.status} ${r.signal ?? ''} ${r.error?.message ?? ''}\n${(r.stderr ?? '').slice(-2000)}`,
    );
  const text = readFileSync(out, 'utf8');
  const m = /^(?:summary|totals):\s+(\d+)/m.exec(text);
  if (!m) throw new Error(`no instruction total in ${out}`);
  return Number(m[1]);
}

/** Throws with the reason when valgrind or the compiler is missing or a run fails. */
export function callgrindPerFault(n: number, n0: number): CallgrindResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-callgrind-'));
  try {
    const bin = buildNativeProgram('sim_fault_loop', dir);
    const script = path.join(root, 'dist', 'bench', 'faults-sim-pipeline.js');
    const node = [process.execPath, script];
    const cPerFault =
      (instructions(dir, 'c', [bin, String(n)]) - instructions(dir, 'c0', [bin, String(n0)])) /
      (n - n0);
    const oursPerFault =
      (instructions(dir, 'ours', [...node, String(n)]) -
        instructions(dir, 'ours0', [...node, String(n0)])) /
      (n - n0);
    return { n, n0, oursPerFault, cPerFault, ratio: oursPerFault / cPerFault };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
