// bench:ui — the dashboard under a page-request flood, against the same
// dashboard with the source idle, in one run (browser mode, headless
// Chromium). Per phase, on the Live view then the Faults view (live-follow):
// frames received per second, renderer frame rate (requestAnimationFrame
// count), serve CPU and RSS (from /proc), page JS heap at start and end.
// Targets: load fps / idle fps >= 0.9, frames <= 30/s, memory flat within 10%.
//   node dist/bench/ui.js [--seconds N]   (default 30 s per phase)
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  gotoTab,
  launchBrowser,
  openApp,
  startServe,
  uiSkipReason,
  type Serve,
} from '../test/ui/harness';

const RATE = 100_000;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcSample {
  cpuTicks: number;
  rssKiB: number;
}

function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuTicks: utime + stime, rssKiB: Number(rss?.[1] ?? 0) };
}

/** Counts requestAnimationFrame callbacks in the page from now on. */
const installRafCounter = `(() => {
  if (window.__rafCount !== undefined) return;
  window.__rafCount = 0;
  const tick = () => { window.__rafCount++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})()`;

interface PageCounters {
  raf: number;
  frames: number;
  heap: number;
}

async function pageCounters(page: Page): Promise<PageCounters> {
  return (await page.evaluate(
    `(window.gc && window.gc(), { raf: window.__rafCount, frames: window.__iommuscopeFrames ?? 0,
        heap: performance.memory ? performance.memory.usedJSHeapSize : 0 })`,
  )) as PageCounters;
}

interface ViewResult {
  view: string;
  fps: number;
  framesPerSecond: number;
}

interface PhaseResult {
  phase: 'idle' | 'load';
  views: ViewResult[];
  fps: number;
  framesPerSecond: number;
  cpuPercent: number;
  /** RSS when the session started, before the bounded fault log filled. */
  rssSessionMiB: number;
  /** Seconds until the fault log reached its bound (load phase). */
  logFullAfterS: number | null;
  rssStartMiB: number;
  rssEndMiB: number;
  heapStartMiB: number;
  heapEndMiB: number;
  faultRate: number;
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

async function runPhase(
  phase: PhaseResult['phase'],
  serveArgs: string[],
  seconds: number,
): Promise<PhaseResult> {
  const serve: Serve = await startServe(serveArgs);
  // gc() in the page: heap figures are what is retained, not GC timing.
  const browser = await launchBrowser(['--js-flags=--expose-gc']);
  try {
    const page = await openApp(browser, serve.url);
    await page.evaluate(installRafCounter);
    await gotoTab(page, 'Live');
    await page.waitForTimeout(3000); // warm up: first charts drawn, JIT settled
    const pid = serve.proc.pid!;
    const rssSession = sampleProc(pid).rssKiB;
    // Memory is bounded, not constant, until the fault log (2^20 groups) is
    // full: measure "flat" from there on.
    let logFullAfterS: number | null = null;
    if (phase === 'load') {
      const tw = Date.now();
      const dropped = page.getByTestId('count-dropped').locator('.value');
      while (Number(((await dropped.textContent()) ?? '0').replace(/\D/g, '')) === 0) {
        if (Date.now() - tw > 120_000) throw new Error('the fault log never filled');
        await page.waitForTimeout(500);
      }
      logFullAfterS = round1(3 + (Date.now() - tw) / 1000);
    }
    const procStart = sampleProc(pid);
    const startCounters = await pageCounters(page);
    const t0 = Date.now();
    const views: ViewResult[] = [];
    for (const view of ['Live', 'Faults']) {
      await gotoTab(page, view);
      if (view === 'Faults') await page.getByTestId('follow').check();
      const a = await pageCounters(page);
      const ta = Date.now();
      await page.waitForTimeout((seconds * 1000) / 2);
      const b = await pageCounters(page);
      const dt = (Date.now() - ta) / 1000;
      views.push({
        view,
        fps: round1((b.raf - a.raf) / dt),
        framesPerSecond: round1((b.frames - a.frames) / dt),
      });
    }
    const endCounters = await pageCounters(page);
    const procEnd = sampleProc(pid);
    const dt = (Date.now() - t0) / 1000;
    const rateText = (await page.getByTestId('session-summary').textContent()) ?? '';
    return {
      phase,
      views,
      fps: round1((endCounters.raf - startCounters.raf) / dt),
      framesPerSecond: round1((endCounters.frames - startCounters.frames) / dt),
      cpuPercent: round1(((procEnd.cpuTicks - procStart.cpuTicks) / TICKS_PER_SECOND / dt) * 100),
      rssSessionMiB: mib(rssSession),
      logFullAfterS,
      rssStartMiB: mib(procStart.rssKiB),
      rssEndMiB: mib(procEnd.rssKiB),
      heapStartMiB: mib(startCounters.heap / 1024),
      heapEndMiB: mib(endCounters.heap / 1024),
      faultRate: parseRate(rateText),
    };
  } finally {
    await browser.close();
    await serve.stop();
  }
}

function parseRate(summary: string): number {
  const m = /([\d.]+)([kMG]?)\/s/.exec(summary);
  if (!m) return 0;
  const mult = { '': 1, k: 1e3, M: 1e6, G: 1e9 }[m[2] as '' | 'k' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

async function main(): Promise<number> {
  const skip = uiSkipReason();
  if (skip) {
    console.log(`bench:ui skipped: ${skip}`);
    return 0;
  }
  const i = process.argv.indexOf('--seconds');
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 30;
  if (!(seconds >= 4)) throw new Error('--seconds must be at least 4');

  console.log(`bench:ui: ${seconds} s per phase; idle sim, then sim at ${RATE}/s (policy success)`);
  const idle = await runPhase('idle', ['--source', 'sim', '--policy', 'success'], seconds);
  // Enough for the warm-up, filling the log (about 11 s at this rate) and the phase.
  const count = RATE * (seconds + 40);
  const load = await runPhase(
    'load',
    ['--source', 'sim', '--policy', 'success', '--inject', `rate=${RATE},count=${count}`],
    seconds,
  );

  const rows: [string, string, string][] = [
    ['renderer fps (rAF)', `${idle.fps}`, `${load.fps}`],
    ...idle.views.map((v, k): [string, string, string] => [
      `  fps on ${v.view}`,
      `${v.fps}`,
      `${load.views[k]?.fps ?? ''}`,
    ]),
    ['frames received /s', `${idle.framesPerSecond}`, `${load.framesPerSecond}`],
    ['page requests /s (core)', `${idle.faultRate}`, `${load.faultRate}`],
    ['serve CPU %', `${idle.cpuPercent}`, `${load.cpuPercent}`],
    [
      'serve RSS at session start MiB',
      `${idle.rssSessionMiB}`,
      `${load.rssSessionMiB} (log full after ${load.logFullAfterS} s)`,
    ],
    [
      'serve RSS start→end MiB',
      `${idle.rssStartMiB}→${idle.rssEndMiB}`,
      `${load.rssStartMiB}→${load.rssEndMiB}`,
    ],
    [
      'page JS heap start→end MiB',
      `${idle.heapStartMiB}→${idle.heapEndMiB}`,
      `${load.heapStartMiB}→${load.heapEndMiB}`,
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'metric'.padEnd(w0)}  ${'idle'.padStart(14)}  ${'load'.padStart(14)}`);
  for (const [a, b, c] of rows)
    console.log(`${a.padEnd(w0)}  ${b.padStart(14)}  ${c.padStart(14)}`);

  const fpsRatio = idle.fps > 0 ? round2(load.fps / idle.fps) : 0;
  const rssGrowth = round2(load.rssEndMiB / load.rssStartMiB - 1);
  const heapGrowth = load.heapStartMiB > 0 ? round2(load.heapEndMiB / load.heapStartMiB - 1) : 0;
  const verdicts = {
    fpsRatio: { value: fpsRatio, target: '>= 0.9', ok: fpsRatio >= 0.9 },
    framesPerSecond: {
      value: load.framesPerSecond,
      target: '<= 30',
      ok: load.framesPerSecond <= 30,
    },
    serveRssGrowth: { value: rssGrowth, target: '<= 0.10', ok: rssGrowth <= 0.1 },
    pageHeapGrowth: { value: heapGrowth, target: '<= 0.10', ok: heapGrowth <= 0.1 },
  };
  console.log(
    `ratios: load/idle fps ${fpsRatio} (target ≥ 0.9) · frames ${load.framesPerSecond}/s (≤ 30) · ` +
      `serve RSS growth ${(rssGrowth * 100).toFixed(1)}% · page heap growth ${(heapGrowth * 100).toFixed(1)}% (≤ 10%)`,
  );
  console.log(JSON.stringify({ bench: 'ui', seconds, rate: RATE, idle, load, verdicts }));
  return 0;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`bench:ui failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  },
);
