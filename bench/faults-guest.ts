// Inside the test VM (-i none): the pipeline against the plain C loop
// (native/bench/c_fault_loop.c) on the selftest mock device, in this one boot,
// and the pipeline's native core on its own, without Node
// (native/bench/core_mock_loop.cc, --core-loop): where the pipeline's cost goes.
//   node dist/bench/faults-guest.js --c-loop BIN [--core-loop BIN] [--count N] [--runs K]
//       [--latency-runs K]
// Saturation: K alternating runs (C, ours, core, C, ours, core, ...) at rate 0, medians.
// Latency: at 1k, 10k and 50k requests/s (or --rates), alternating too, medians of p50/p99.
//   Each latency run lasts about LATENCY_RUN_S (at least LATENCY_MIN_COUNT requests): many short
//   alternating runs give a median that a burst of host load during one run cannot move much.
// The last stdout line is `BENCH_GUEST {json}` for bench/faults.ts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { addon } from '../test/native/addon';
import { pipelineRun, type Measured } from './faults-mock';
import { fmt, median } from './faults-stats';

export const LATENCY_RATES = [1000, 10000, 50000];
const LATENCY_RUN_S = 0.6;
const LATENCY_MIN_COUNT = 1000; // p99 from at least 10 requests
const RUN_TIMEOUT_MS = 180_000; // one run on a loaded 2-core host under TCG

export interface Side {
  runs: Measured[];
  faultsPerSec: number; // medians over the runs
  p50Us: number;
  p99Us: number;
  readP50Us: number; // trigger to the read() that returned it
}

export interface GuestResult {
  kernel: string;
  saturation: { count: number } & Sides;
  latency: ({ rate: number; count: number } & Sides)[];
}

/** C loop and pipeline; `core` when the guest was given --core-loop. */
export interface Sides {
  c: Side;
  ours: Side;
  core?: Side;
}

/** c_fault_loop and core_mock_loop: `BIN N RATE` prints one JSON line. */
function loopRun(binary: string, count: number, rate: number): Measured {
  const r = spawnSync(binary, [String(count), String(rate)], {
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.trim().startsWith('{'));
  if (r.status !== 0 || !line)
    throw new Error(`${binary} failed (exit ${r.status}, ${r.signal ?? 'no signal'}): ${r.stderr}`);
  return JSON.parse(line) as Measured;
}

function side(runs: Measured[]): Side {
  return {
    runs,
    faultsPerSec: median(runs.map((r) => r.faultsPerSec)),
    p50Us: median(runs.map((r) => r.p50Us)),
    p99Us: median(runs.map((r) => r.p99Us)),
    readP50Us: median(runs.map((r) => r.readP50Us)),
  };
}

function show(what: string, m: Measured): void {
  console.log(
    `  ${what.padEnd(24)} ${fmt(m.faultsPerSec).padStart(9)}/s ${fmt(m.seconds, 2).padStart(7)} s` +
      `  p50 ${fmt(m.p50Us, 1).padStart(8)} µs  p99 ${fmt(m.p99Us, 1).padStart(8)} µs` +
      `  (to read: p50 ${fmt(m.readP50Us, 1)} p99 ${fmt(m.readP99Us, 1)})`,
  );
}

interface Loops {
  c: string;
  core?: string;
}

async function alternate(loops: Loops, count: number, rate: number, runs: number): Promise<Sides> {
  const c: Measured[] = [];
  const ours: Measured[] = [];
  const core: Measured[] = [];
  const a = addon();
  for (let i = 0; i < runs; i++) {
    c.push(loopRun(loops.c, count, rate));
    show(`C loop     run ${i + 1}`, c[c.length - 1]!);
    ours.push(await pipelineRun(a, count, rate, RUN_TIMEOUT_MS));
    show(`pipeline   run ${i + 1}`, ours[ours.length - 1]!);
    if (!loops.core) continue;
    core.push(loopRun(loops.core, count, rate));
    show(`core       run ${i + 1}`, core[core.length - 1]!);
  }
  return { c: side(c), ours: side(ours), ...(loops.core ? { core: side(core) } : {}) };
}

async function main(argv: string[]): Promise<number> {
  const stringArg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const arg = (name: string, dflt: number): number => Number(stringArg(name) ?? dflt);
  const binary = stringArg('--c-loop');
  const coreBinary = stringArg('--core-loop');
  const count = arg('--count', 100_000);
  const runs = arg('--runs', 7);
  const latencyRuns = arg('--latency-runs', 5);
  const ri = argv.indexOf('--rates');
  const rates = ri >= 0 ? (argv[ri + 1] ?? '').split(',').map(Number) : LATENCY_RATES;
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  if (
    !binary ||
    ![count, runs, latencyRuns].every(whole) ||
    !rates.every((r) => whole(r) && r > 0)
  ) {
    console.error(
      'usage: faults-guest.js --c-loop BIN [--core-loop BIN] [--count N] [--runs K] [--latency-runs K] [--rates R,R,...]',
    );
    return 2;
  }
  const loops: Loops = { c: binary, ...(coreBinary ? { core: coreBinary } : {}) };
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  console.log(`guest kernel ${kernel}: warm-up`);
  await alternate(loops, 5000, 0, 1);
  console.log(`saturation: ${runs} alternating runs of ${count} requests at rate 0`);
  const saturation = { count, ...(await alternate(loops, count, 0, runs)) };
  const latency: GuestResult['latency'] = [];
  for (const rate of rates) {
    const n = Math.max(LATENCY_MIN_COUNT, Math.round(rate * LATENCY_RUN_S));
    console.log(`latency at ${rate}/s: ${latencyRuns} alternating runs of ${n} requests`);
    latency.push({ rate, count: n, ...(await alternate(loops, n, rate, latencyRuns)) });
  }
  const result: GuestResult = { kernel, saturation, latency };
  console.log(`BENCH_GUEST ${JSON.stringify(result)}`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exitCode = 1;
    },
  );
}
