// Dashboard figures: faults.query over a million logged groups (filtered
// scans against the unfiltered page as the reference measured in the same
// run), and frames per second reaching a WebSocket client while the native
// simulator floods the core as fast as it can.
//   npm run bench:dashboard            (needs the built addon and renderer for the flood)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { MAX_FRAMES_PER_SECOND, type FaultFilter, type Frame } from '../main/common/contract';
import { FaultLog } from '../main/node/dashboard/fault-log';
import { floodBatch } from '../test/unit/dashboard-helpers';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function queryBench(): void {
  const N = 1_000_000;
  const log = new FaultLog({ startNs: 0 });
  const t0 = performance.now();
  for (let at = 0; at < N; at += 50_000) log.ingest(floodBatch(50_000, at + 1, { startIndex: at }));
  const ingestMs = performance.now() - t0;
  console.log(
    `ingest: ${N} one-page groups in ${ingestMs.toFixed(0)} ms (${((N / ingestMs) * 1000).toFixed(0)} groups/s)`,
  );
  const time = (filter: FaultFilter | undefined, cached: boolean): number => {
    const runs: number[] = [];
    for (let i = 0; i < 7; i++) {
      // A different filter in between defeats the one-entry cache when measuring cold scans.
      if (!cached && filter) log.query(0, 1, { devId: 999 });
      const t = performance.now();
      log.query(N / 2, 1000, filter);
      runs.push(performance.now() - t);
    }
    return median(runs);
  };
  const ref = time(undefined, true);
  console.log(`faults.query page of 1000, no filter (reference): ${ref.toFixed(2)} ms`);
  const filters: [string, FaultFilter][] = [
    ['devId', { devId: 2 }],
    ['pasid', { pasid: 5 }],
    ['perm', { perm: 'w' }],
    ['addr range', { addrMin: '0x100000', addrMax: '0x10000000' }],
    ['state', { state: 'pending' }],
    ['devId+perm+state', { devId: 1, perm: 'r', state: 'pending' }],
    ['filter text', { filter: 'dev == 2 && !perm.x && addr in {0x100000..0x10000000}' }],
  ];
  for (const [name, f] of filters) {
    const cold = time(f, false);
    const warm = time(f, true);
    console.log(
      `faults.query ${name.padEnd(17)} cold scan ${cold.toFixed(1).padStart(6)} ms (${(cold / ref).toFixed(0)}× ref), cached ${warm.toFixed(2)} ms`,
    );
  }
}

async function floodBench(seconds: number): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const proc = spawn(
    process.execPath,
    [
      'bin/iommuscope.js',
      'serve',
      '--port',
      '0',
      '--source',
      'sim',
      '--inject',
      'count=1000000000,devices=16,pasids=1-64',
      '--policy',
      'success',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = new URL(
    await new Promise<string>((resolve) =>
      createInterface({ input: proc.stdout! }).once('line', resolve),
    ),
  );
  const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`);
  await new Promise((r) => ws.once('open', r));
  const frames: { at: number; f: Frame }[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { event?: string; payload?: Frame };
    if (m.event === 'frame') frames.push({ at: performance.now(), f: m.payload! });
  });
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const start = frames.length;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const window = frames.slice(start);
  const dt = (performance.now() - t0) / 1000;
  const first = window[0]!.f.totals.faults;
  const last = window.at(-1)!.f.totals.faults;
  const charts = window.filter((x) => x.f.rates).length;
  let busiest = 0;
  for (let i = 0, j = 0; i < window.length; i++) {
    while (window[i]!.at - window[j]!.at >= 1000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  const bytes = window.reduce((n, x) => n + JSON.stringify(x.f).length, 0);
  console.log(
    `flood: ${((last - first) / dt).toFixed(0)} page requests/s answered natively; ` +
      `${(window.length / dt).toFixed(1)} frames/s (cap ${MAX_FRAMES_PER_SECOND}, busiest 1 s window ${busiest}), ` +
      `${(charts / dt).toFixed(1)} chart frames/s, ${(bytes / window.length) | 0} bytes/frame; ` +
      `frames per 1000 faults: ${((window.length * 1000) / Math.max(1, last - first)).toFixed(3)}`,
  );
  ws.close();
  proc.kill('SIGINT');
  await new Promise((r) => proc.once('exit', r));
}

async function main(): Promise<void> {
  queryBench();
  await floodBench(Number(process.argv[2] ?? 5));
}

void main();
