// bench:soak — `serve` with the simulator at 100,000 page requests/s
// (policy success) and one headless Chromium tab on the Live view, for N
// minutes. Every 10 s: serve's RSS and CPU (from /proc). Printed: the
// samples, then the RSS slope after warm-up (least squares, MiB/min) and the
// change from the first post-warm-up sample to the last, against the target
// (flat within 10%). The reference is the same run's first post-warm-up
// sample.
//   node dist/bench/soak.js [--minutes N] [--warmup-s S]   (default 5 min, 60 s)
import { readFileSync } from 'node:fs';
import { launchBrowser, openApp, startServe, uiSkipReason } from '../test/ui/harness';

const RATE = 100_000;
const SAMPLE_S = 10;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench:soak: ${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

function sampleProc(pid: number): { cpuTicks: number; rssKiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssKiB: Number(rss?.[1] ?? 0) };
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<number> {
  const skip = uiSkipReason();
  if (skip) {
    console.log(`bench:soak: skipped: ${skip}`);
    return 0;
  }
  const minutes = arg('--minutes', 5);
  const warmupS = arg('--warmup-s', 60);
  const totalS = minutes * 60;
  const count = Math.ceil(RATE * (totalS + 60));
  console.log(
    `bench:soak: serve --source sim at ${RATE}/s (policy success), one tab, ${minutes} min, ` +
      `sample every ${SAMPLE_S} s, warm-up ${warmupS} s`,
  );
  const serve = await startServe([
    '--source',
    'sim',
    '--policy',
    'success',
    '--inject',
    `rate=${RATE},count=${count}`,
  ]);
  const browser = await launchBrowser();
  try {
    await openApp(browser, serve.url);
    const pid = serve.proc.pid!;
    const t0 = Date.now();
    let last = sampleProc(pid);
    let lastT = t0;
    const rows: { t: number; rssMiB: number; cpu: number }[] = [];
    console.log('   t/s   RSS/MiB   CPU/%');
    while (Date.now() - t0 < totalS * 1000) {
      await new Promise((r) => setTimeout(r, SAMPLE_S * 1000));
      const now = Date.now();
      const s = sampleProc(pid);
      const cpu = ((s.cpuTicks - last.cpuTicks) / TICKS_PER_SECOND / ((now - lastT) / 1000)) * 100;
      const row = { t: (now - t0) / 1000, rssMiB: s.rssKiB / 1024, cpu };
      rows.push(row);
      console.log(
        `${row.t.toFixed(0).padStart(6)}  ${row.rssMiB.toFixed(1).padStart(8)}  ${cpu.toFixed(0).padStart(6)}`,
      );
      last = s;
      lastT = now;
    }
    const steady = rows.filter((r) => r.t >= warmupS);
    if (steady.length < 2) {
      console.log('bench:soak: too short for a slope after warm-up (use more --minutes)');
      return 1;
    }
    const perMin = slope(
      steady.map((r) => r.t / 60),
      steady.map((r) => r.rssMiB),
    );
    const first = steady[0]!.rssMiB;
    const lastRss = steady[steady.length - 1]!.rssMiB;
    const change = (lastRss - first) / first;
    const cpuMean = steady.reduce((a, r) => a + r.cpu, 0) / steady.length;
    console.log(
      `bench:soak: after warm-up RSS ${first.toFixed(1)} -> ${lastRss.toFixed(1)} MiB ` +
        `(${(change * 100).toFixed(1)}%, ratio ${(lastRss / first).toFixed(3)}), ` +
        `slope ${perMin.toFixed(2)} MiB/min, CPU mean ${cpuMean.toFixed(0)}%; ` +
        `target flat within 10%: ${Math.abs(change) <= 0.1 ? 'met' : 'NOT met'}`,
    );
    return 0;
  } finally {
    await browser.close();
    await serve.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
