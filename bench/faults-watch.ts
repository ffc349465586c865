// `watch --json` against `watch` on the sim source, through the real CLI:
//   node bin/iommuscope.js watch --source sim --inject count=N --policy success [--json] > file
// Alternating runs, the rate of each from its summary line (answered / durationMs).
// A run only counts when the CLI ran cleanly: exit 0, a clean summary with N
// answered by the policy, no uncaught exception, and with --json one `fault`
// and one `response` event per request in the file. Otherwise the part is skipped, with why.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './faults-stats';

const root = path.resolve(__dirname, '..', '..');
const TIMEOUT_MS = 180_000;

export interface WatchResult {
  count: number;
  plainPerSec: number[];
  jsonPerSec: number[];
  plainMedian: number;
  jsonMedian: number;
  ratio: number;
}

interface Summary {
  type: string;
  answered: number;
  durationMs: number;
  clean: boolean;
  answeredBy?: Record<string, number>;
}

/** One run; returns its faults/s or throws with why the CLI did not run right. */
function watchRun(dir: string, count: number, json: boolean): number {
  const file = path.join(dir, json ? 'watch-json.ndjson' : 'watch.txt');
  const args = ['watch', '--source', 'sim', '--inject', `count=${count}`, '--policy', 'success'];
  if (json) args.push('--json');
  const fd = openSync(file, 'w');
  let r;
  try {
    r = spawnSync(process.execPath, [path.join(root, 'bin', 'iommuscope.js'), ...args], {
      cwd: root,
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      timeout: TIMEOUT_MS,
    });
  } finally {
    closeSync(fd);
  }
  const cmd = `iommuscope ${args.join(' ')}`;
  const stderr = (r.stderr ?? '').trim();
  if (r.status !== 0)
    throw new Error(`${cmd} exited ${r.status ?? r.signal}: ${stderr.slice(-500)}`);
  if (/uncaught|exception/i.test(stderr)) {
    const why = stderr
      .split('\n')
      .find((l) => l.trim() && !/DeprecationWarning|--trace-deprecation/.test(l));
    throw new Error(
      `${cmd}: its batch handler threw (Node reported an uncaught N-API callback exception, ` +
        `DEP0168)${why ? `: ${why.trim()}` : ''}`,
    );
  }
  const text = readFileSync(file, 'utf8');
  const lines = text.trimEnd().split('\n');
  const s = JSON.parse(lines[lines.length - 1] ?? '{}') as Summary;
  if (s.type !== 'summary' || !s.clean || s.answered !== count)
    throw new Error(`${cmd}: no clean summary with ${count} answered: ${lines[lines.length - 1]}`);
  if (s.answeredBy && (s.answeredBy.policy ?? 0) !== count)
    throw new Error(
      `${cmd}: answeredBy ${JSON.stringify(s.answeredBy)} does not add up to ${count}`,
    );
  if (json) {
    const faults = (text.match(/"type":"fault"/g) ?? []).length;
    const responses = (text.match(/"type":"response"/g) ?? []).length;
    if (faults !== count || responses !== count)
      throw new Error(
        `${cmd} wrote ${faults} fault and ${responses} response events for ${count} requests`,
      );
  }
  return count / (s.durationMs / 1000);
}

/** Throws with the reason when the CLI does not run (e.g. not built, or broken). */
export function watchRates(count: number, runs: number, log: (s: string) => void): WatchResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-watch-'));
  try {
    const plain: number[] = [];
    const json: number[] = [];
    for (let i = 0; i < runs; i++) {
      plain.push(watchRun(dir, count, false));
      json.push(watchRun(dir, count, true));
      log(
        `  run ${i + 1}: watch ${Math.round(plain[i]!)}/s, watch --json ${Math.round(json[i]!)}/s`,
      );
    }
    const plainMedian = median(plain);
    const jsonMedian = median(json);
    return {
      count,
      plainPerSec: plain,
      jsonPerSec: json,
      plainMedian,
      jsonMedian,
      ratio: jsonMedian / plainMedian,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
