// `npm run bench:faults`: issue 7's speed targets for the fault pipeline.
//   node dist/bench/faults.js [--kernel 6.12|7.3|all] [--parts vm,watch,callgrind]
//       [--count N] [--runs K] [--latency-runs K] [--watch-count N] [--watch-runs K]
//       [--callgrind-n N] [--callgrind-n0 N]
// vm: for each kernel image in ../shared/vm, one boot (-i none, the selftest
//   mock device) measuring saturation throughput and trigger-to-answer
//   latency of the pipeline against native/bench/c_fault_loop.c, and of
//   native/bench/core_mock_loop.cc (the pipeline's native core without Node)
//   (bench/faults-guest.ts runs inside);
// watch: `watch --json` against `watch` on the sim source (bench/faults-watch.ts);
// callgrind: instructions per fault, sim pipeline against a loop on the same
//   SimChannel (bench/faults-callgrind.ts).
// Prints every figure with its ratio and target; the last line is one JSON object.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildNativeProgram } from '../test/shared/native-programs';
import { vmArgv, vmKernels, vmSkipReason, vmWorkspace } from '../test/vm/vm';
import { callgrindPerFault, type CallgrindResult } from './faults-callgrind';
import type { GuestResult } from './faults-guest';
import { printReport, reportJson } from './faults-report';
import { watchRates, type WatchResult } from './faults-watch';

const root = path.resolve(__dirname, '..', '..');
const VM_TIMEOUT_MS = 40 * 60_000; // one boot's whole bench on a loaded 2-core host under TCG

export type Part<T> = { ok: T } | { skipped: string };

export interface Options {
  kernels: string[];
  parts: Set<string>;
  count: number;
  runs: number;
  latencyRuns: number;
  watchCount: number;
  watchRuns: number;
  callgrindN: number;
  callgrindN0: number;
}

/** Runs argv, echoing its output line by line with `prefix`; resolves with all of it. */
function runStreaming(argv: string[], prefix: string, timeoutMs: number) {
  return new Promise<{ status: number | null; output: string; timedOut: boolean }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let partial = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (!l.startsWith('BENCH_GUEST ')) console.log(`${prefix}${l}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL'); // the VM runner and its qemu
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output, timedOut });
    });
  });
}

async function vmPart(kernel: string, o: Options): Promise<Part<GuestResult>> {
  const skip = vmSkipReason();
  if (skip) return { skipped: skip };
  const ws = vmWorkspace();
  try {
    let cBinary: string, coreBinary: string;
    try {
      cBinary = buildNativeProgram('c_fault_loop', ws.scratch);
      coreBinary = buildNativeProgram('core_mock_loop', ws.scratch);
    } catch (err) {
      return { skipped: (err as Error).message };
    }
    const guest = path.join(root, 'dist', 'bench', 'faults-guest.js');
    const argv = vmArgv(
      'none',
      ws,
      [
        process.execPath,
        guest,
        '--c-loop',
        cBinary,
        '--core-loop',
        coreBinary,
        '--count',
        String(o.count),
        '--runs',
        String(o.runs),
        '--latency-runs',
        String(o.latencyRuns),
      ],
      kernel,
    );
    const r = await runStreaming(argv, `  [${kernel}] `, VM_TIMEOUT_MS);
    const line = r.output.split('\n').find((l) => l.startsWith('BENCH_GUEST '));
    if (r.timedOut)
      return { skipped: `the ${kernel} VM run took over ${VM_TIMEOUT_MS / 60000} min` };
    if (r.status !== 0 || !line)
      return { skipped: `the ${kernel} VM run failed (exit ${r.status}); its output is above` };
    return { ok: JSON.parse(line.slice('BENCH_GUEST '.length)) as GuestResult };
  } finally {
    ws.dispose();
  }
}

function attempt<T>(fn: () => T): Part<T> {
  try {
    return { ok: fn() };
  } catch (err) {
    return {
      skipped: (err instanceof Error ? err.message : String(err))
        .split('\n')
        .slice(0, 6)
        .join(' | '),
    };
  }
}

function parseOptions(argv: string[]): Options | string {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, dflt: number): number => Number(arg(name) ?? dflt);
  const present = vmKernels();
  const want = arg('--kernel') ?? 'all';
  const kernels = want === 'all' ? present : [want];
  if (want !== 'all' && !present.includes(want))
    return `--kernel ${want}: no ../shared/vm/bzImage-${want}-iommufd-test (have: ${present.join(', ') || 'none'})`;
  const parts = new Set((arg('--parts') ?? 'vm,watch,callgrind').split(','));
  for (const p of parts)
    if (!['vm', 'watch', 'callgrind'].includes(p))
      return `--parts: unknown part ${p} (vm, watch, callgrind)`;
  const o: Options = {
    kernels,
    parts,
    count: int('--count', 100_000),
    runs: int('--runs', 7),
    latencyRuns: int('--latency-runs', 5),
    watchCount: int('--watch-count', 300_000),
    watchRuns: int('--watch-runs', 3),
    callgrindN: int('--callgrind-n', 50_000),
    callgrindN0: int('--callgrind-n0', 5_000),
  };
  const counts = [
    o.count,
    o.runs,
    o.latencyRuns,
    o.watchCount,
    o.watchRuns,
    o.callgrindN,
    o.callgrindN0,
  ];
  if (!counts.every((n) => Number.isInteger(n) && n >= 1))
    return 'counts must be whole numbers >= 1';
  if (o.callgrindN0 >= o.callgrindN) return '--callgrind-n0 must be below --callgrind-n';
  return o;
}

async function main(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (typeof o === 'string') {
    console.error(`bench:faults: ${o}`);
    return 2;
  }
  const vm: Record<string, Part<GuestResult>> = {};
  if (o.parts.has('vm')) {
    if (o.kernels.length === 0) console.log('vm: skipped: no kernel images in ../shared/vm');
    for (const k of o.kernels) {
      console.log(
        `vm ${k}: booting (-i none), C loop, pipeline and core alternating in this one boot`,
      );
      vm[k] = await vmPart(k, o);
    }
  }
  let watch: Part<WatchResult> | undefined;
  if (o.parts.has('watch')) {
    console.log(`watch: ${o.watchRuns} alternating runs of ${o.watchCount} sim requests`);
    watch = attempt(() => watchRates(o.watchCount, o.watchRuns, (s) => console.log(s)));
  }
  let callgrind: Part<CallgrindResult> | undefined;
  if (o.parts.has('callgrind')) {
    console.log(
      `callgrind: instructions at N=${o.callgrindN} and N0=${o.callgrindN0} (slow under valgrind)`,
    );
    callgrind = attempt(() => callgrindPerFault(o.callgrindN, o.callgrindN0));
  }
  printReport(vm, watch, callgrind);
  console.log(JSON.stringify(reportJson(o, vm, watch, callgrind)));
  const failed = Object.values(vm).some((p) => 'skipped' in p);
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 1;
  },
);
