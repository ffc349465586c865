// bench:faults output: the tables with ratios and targets, and the one JSON line.
import type { CallgrindResult } from './faults-callgrind';
import type { Options, Part } from './faults';
import type { GuestResult } from './faults-guest';
import { fmt, median, num } from './faults-stats';
import type { Side } from './faults-guest';
import type { WatchResult } from './faults-watch';

export const TARGETS = {
  saturationRatio: 0.9, // ours / C, at least
  latencyP50Ratio: 2, // ours / C, at most
  latencyP99Us: 1000, // ours, below
  watchJsonRatio: 0.5, // watch --json / watch, at least
};

const mark = (ok: boolean) => (ok ? 'meets' : 'MISSES');

/**
 * Median over the alternating pairs (C run i, pipeline run i, back to back)
 * of ours/C: a cross-check of the ratio of medians that slow drifts in the
 * host's load cancel out of.
 */
function pairedRatio(c: Side, ours: Side, f: (m: Side['runs'][number]) => number): number {
  const n = Math.min(c.runs.length, ours.runs.length);
  const rs: number[] = [];
  for (let i = 0; i < n; i++) rs.push(f(ours.runs[i]!) / f(c.runs[i]!));
  return median(rs);
}

function printVm(kernel: string, g: GuestResult): void {
  const s = g.saturation;
  const ratio = s.ours.faultsPerSec / s.c.faultsPerSec;
  console.log(`\nkernel ${kernel} (guest ${g.kernel}), selftest mock device, same boot:`);
  console.log(`  saturation, medians of ${s.c.runs.length} alternating runs of ${s.count}:`);
  console.log(
    `    C loop   ${fmt(s.c.faultsPerSec).padStart(8)}/s   runs ${s.c.runs.map((r) => fmt(r.faultsPerSec)).join(' ')}`,
  );
  console.log(
    `    pipeline ${fmt(s.ours.faultsPerSec).padStart(8)}/s   runs ${s.ours.runs.map((r) => fmt(r.faultsPerSec)).join(' ')}`,
  );
  console.log(
    `    p50 latency: C ${fmt(s.c.p50Us)} µs (${fmt(s.c.readP50Us)} of it before the read), ` +
      `pipeline ${fmt(s.ours.p50Us)} µs (${fmt(s.ours.readP50Us)} before the read)`,
  );
  console.log(
    `    ratio pipeline/C ${fmt(ratio, 3)}  (target >= ${TARGETS.saturationRatio}: ${mark(ratio >= TARGETS.saturationRatio)})` +
      `  median of paired ratios ${fmt(
        pairedRatio(s.c, s.ours, (m) => m.faultsPerSec),
        3,
      )}`,
  );
  const lr = g.latency[0]?.c.runs.length ?? 0;
  console.log(
    `  latency, TRIGGER_IOPF to the answer's write() returning, per request (µs, medians of ${lr} alternating runs;` +
      ' paired: median of the per-pair ratios):',
  );
  console.log(
    '    rate/s   achieved C/ours      C p50    C p99   ours p50  ours p99  p50 ratio  paired',
  );
  for (const l of g.latency) {
    const r = l.ours.p50Us / l.c.p50Us;
    console.log(
      `    ${String(l.rate).padStart(6)} ${fmt(l.c.faultsPerSec).padStart(8)}/${fmt(l.ours.faultsPerSec).padEnd(8)}` +
        ` ${fmt(l.c.p50Us, 1).padStart(8)} ${fmt(l.c.p99Us, 1).padStart(8)} ${fmt(l.ours.p50Us, 1).padStart(9)}` +
        ` ${fmt(l.ours.p99Us, 1).padStart(9)}  ${fmt(r, 2).padStart(5)}` +
        `  ${fmt(
          pairedRatio(l.c, l.ours, (m) => m.p50Us),
          2,
        ).padStart(6)}` +
        `  (p50 <= ${TARGETS.latencyP50Ratio}x: ${mark(r <= TARGETS.latencyP50Ratio)}, p99 < ${TARGETS.latencyP99Us} µs: ${mark(l.ours.p99Us < TARGETS.latencyP99Us)})`,
    );
  }
}

/** The pipeline's native core without Node, in the same runs: our code's cost apart from Node's. */
function printCore(g: GuestResult): void {
  const s = g.saturation;
  if (!s.core) return;
  console.log(
    "  the pipeline's native core without Node (native/bench/core_mock_loop.cc), the same alternating runs:",
  );
  console.log(
    `    saturation ${fmt(s.core.faultsPerSec)}/s: core/C ${fmt(s.core.faultsPerSec / s.c.faultsPerSec, 3)}, ` +
      `pipeline/core ${fmt(s.ours.faultsPerSec / s.core.faultsPerSec, 3)}`,
  );
  console.log('    rate/s   core p50  core p99  core/C p50  pipeline/core p50');
  for (const l of g.latency) {
    if (!l.core) continue;
    console.log(
      `    ${String(l.rate).padStart(6)} ${fmt(l.core.p50Us, 1).padStart(9)} ${fmt(l.core.p99Us, 1).padStart(9)}` +
        `  ${fmt(l.core.p50Us / l.c.p50Us, 2).padStart(10)}  ${fmt(l.ours.p50Us / l.core.p50Us, 2).padStart(17)}`,
    );
  }
}

export function printReport(
  vm: Record<string, Part<GuestResult>>,
  watch: Part<WatchResult> | undefined,
  callgrind: Part<CallgrindResult> | undefined,
): void {
  console.log('\n=== bench:faults ===');
  for (const [k, p] of Object.entries(vm)) {
    if ('skipped' in p) console.log(`\nkernel ${k}: skipped: ${p.skipped}`);
    else {
      printVm(k, p.ok);
      printCore(p.ok);
    }
  }
  if (watch) {
    if ('skipped' in watch) console.log(`\nwatch --json vs watch (sim): skipped: ${watch.skipped}`);
    else {
      const w = watch.ok;
      console.log(
        `\nwatch --json vs watch (sim, ${w.count} requests, medians): ${fmt(w.jsonMedian)}/s vs ${fmt(w.plainMedian)}/s`,
      );
      console.log(
        `  ratio ${fmt(w.ratio, 3)}  (target >= ${TARGETS.watchJsonRatio}: ${mark(w.ratio >= TARGETS.watchJsonRatio)})`,
      );
    }
  }
  if (callgrind) {
    if ('skipped' in callgrind) console.log(`\ncallgrind: skipped: ${callgrind.skipped}`);
    else {
      const c = callgrind.ok;
      console.log(
        `\ncallgrind, user-space instructions per fault, all threads, (I(${c.n}) - I(${c.n0})) / ${c.n - c.n0}:`,
      );
      console.log(
        `  sim pipeline ${fmt(c.oursPerFault)}   C++ loop on the same SimChannel ${fmt(c.cPerFault)}   ratio ${fmt(c.ratio, 2)}`,
      );
    }
  }
}

export function reportJson(
  o: Options,
  vm: Record<string, Part<GuestResult>>,
  watch: Part<WatchResult> | undefined,
  callgrind: Part<CallgrindResult> | undefined,
): Record<string, unknown> {
  const kernels: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(vm)) {
    if ('skipped' in p) {
      kernels[k] = { skipped: p.skipped };
      continue;
    }
    const s = p.ok.saturation;
    const ratio = s.ours.faultsPerSec / s.c.faultsPerSec;
    kernels[k] = {
      guestKernel: p.ok.kernel,
      saturation: {
        count: s.count,
        runs: s.c.runs.length,
        cPerSec: num(s.c.faultsPerSec),
        oursPerSec: num(s.ours.faultsPerSec),
        cRuns: s.c.runs.map((r) => num(r.faultsPerSec)),
        oursRuns: s.ours.runs.map((r) => num(r.faultsPerSec)),
        cP50Us: num(s.c.p50Us),
        oursP50Us: num(s.ours.p50Us),
        cReadP50Us: num(s.c.readP50Us),
        oursReadP50Us: num(s.ours.readP50Us),
        ratio: num(ratio),
        pairedRatio: num(pairedRatio(s.c, s.ours, (m) => m.faultsPerSec)),
        meets: ratio >= TARGETS.saturationRatio,
        ...(s.core
          ? {
              corePerSec: num(s.core.faultsPerSec),
              coreRuns: s.core.runs.map((r) => num(r.faultsPerSec)),
              coreRatio: num(s.core.faultsPerSec / s.c.faultsPerSec),
            }
          : {}),
      },
      latency: p.ok.latency.map((l) => ({
        rate: l.rate,
        count: l.count,
        cAchievedPerSec: num(l.c.faultsPerSec),
        oursAchievedPerSec: num(l.ours.faultsPerSec),
        cP50Us: num(l.c.p50Us),
        cP99Us: num(l.c.p99Us),
        oursP50Us: num(l.ours.p50Us),
        oursP99Us: num(l.ours.p99Us),
        cReadP50Us: num(l.c.readP50Us),
        oursReadP50Us: num(l.ours.readP50Us),
        p50Ratio: num(l.ours.p50Us / l.c.p50Us),
        p50PairedRatio: num(pairedRatio(l.c, l.ours, (m) => m.p50Us)),
        cP50Runs: l.c.runs.map((r) => num(r.p50Us)),
        oursP50Runs: l.ours.runs.map((r) => num(r.p50Us)),
        meetsP50: l.ours.p50Us / l.c.p50Us <= TARGETS.latencyP50Ratio,
        meetsP99: l.ours.p99Us < TARGETS.latencyP99Us,
        ...(l.core
          ? {
              coreP50Us: num(l.core.p50Us),
              coreP99Us: num(l.core.p99Us),
              coreReadP50Us: num(l.core.readP50Us),
              coreP50Ratio: num(l.core.p50Us / l.c.p50Us),
              coreP50Runs: l.core.runs.map((r) => num(r.p50Us)),
            }
          : {}),
      })),
    };
  }
  const w =
    watch &&
    ('skipped' in watch
      ? { skipped: watch.skipped }
      : {
          count: watch.ok.count,
          plainPerSec: num(watch.ok.plainMedian),
          jsonPerSec: num(watch.ok.jsonMedian),
          ratio: num(watch.ok.ratio),
          meets: watch.ok.ratio >= TARGETS.watchJsonRatio,
        });
  const c =
    callgrind &&
    ('skipped' in callgrind
      ? { skipped: callgrind.skipped }
      : {
          n: callgrind.ok.n,
          n0: callgrind.ok.n0,
          oursPerFault: num(callgrind.ok.oursPerFault),
          cPerFault: num(callgrind.ok.cPerFault),
          ratio: num(callgrind.ok.ratio),
        });
  return {
    bench: 'faults',
    targets: TARGETS,
    options: { ...o, parts: [...o.parts] },
    kernels,
    watch: w ?? null,
    callgrind: c ?? null,
  };
}
