// Inside the VM (-i none, either kernel): a mock session on the real kernel
// recorded with `watch --record`, replayed and exported, compared with what
// watch printed; a recording killed with SIGKILL mid-session; and an agent
// scraped during a mock session, its counters against the session's totals.
// Needs the merged pipeline (the new fault queue contract end to end).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CLI_START_MS, facts, finish, step, waitFor } from './guest-steps';
import { samples, sum } from '../shared/exposition';

const scratch = process.env.VM_SCRATCH ?? '/tmp';
const cli = (args: string[], timeout = 120_000) =>
  spawnSync(process.execPath, ['bin/iommuscope.js', ...args], {
    encoding: 'utf8',
    timeout,
    maxBuffer: 256 << 20,
  });
type Line = Record<string, unknown> & { type: string };
const ndjson = (text: string): Line[] =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const TOTAL_KEYS = [
  'faults',
  'groups',
  'answered',
  'success',
  'invalid',
  'pending',
  'errors',
] as const;

async function main(): Promise<void> {
  const file = path.join(scratch, 'mock.pcapng.gz');
  let watched: Line[] = [];
  await step('watch --record: a mock session on the real kernel is recorded', () => {
    const r = cli([
      'watch',
      '--source',
      'mock',
      '--inject',
      'count=400,rate=2000,pasids=1-3',
      '--policy',
      'success',
      '--json',
      '--record',
      file,
    ]);
    watched = ndjson(r.stdout);
    const summary = watched.at(-1)!;
    facts.watchSummary = summary;
    if (r.status !== 0 || summary.type !== 'summary' || summary.faults !== 400)
      throw new Error(`${r.status} ${r.stderr} ${JSON.stringify(summary)}`);
    if (!existsSync(file)) throw new Error('no recording');
  });

  await step('replay: the same faults, groups, answers and totals as watch printed', () => {
    const r = cli(['replay', file, '--json', '--speed', 'max']);
    if (r.status !== 0) throw new Error(r.stderr);
    const replayed = ndjson(r.stdout);
    const key = (l: Line): string =>
      JSON.stringify([
        l.type,
        l.group,
        l.cookie,
        l.dev,
        l.pasid,
        l.addr,
        l.perm,
        l.code,
        l.by,
        l.rule,
        l.latencyNs,
      ]);
    const pick = (ls: Line[]): string[] =>
      ls
        .filter((l) => l.type === 'fault' || l.type === 'response')
        .map(key)
        .sort();
    const a = pick(watched);
    const b = pick(replayed);
    facts.replayedEvents = b.length;
    if (a.length !== b.length || a.some((x, i) => x !== b[i]))
      throw new Error(
        `watch ${a.length} events, replay ${b.length}; first difference ${a.find((x, i) => x !== b[i])}`,
      );
    const ws = watched.at(-1)!;
    const rs = replayed.at(-1)!;
    facts.replaySummary = rs;
    for (const k of TOTAL_KEYS)
      if (ws[k] !== rs[k]) throw new Error(`${k}: watch ${String(ws[k])}, replay ${String(rs[k])}`);
    if (JSON.stringify(ws.answeredBy) !== JSON.stringify(rs.answeredBy))
      throw new Error(
        `answeredBy ${JSON.stringify(ws.answeredBy)} vs ${JSON.stringify(rs.answeredBy)}`,
      );
  });

  await step('export csv: one row per group, all answered', () => {
    const r = cli(['export', file, '--format', 'csv']);
    if (r.status !== 0) throw new Error(r.stderr);
    const rows = r.stdout.trim().split('\n').slice(1);
    facts.exportedGroups = rows.length;
    if (rows.length !== (watched.at(-1)!.groups as number)) throw new Error(`${rows.length} rows`);
    if (rows.some((l) => !l.endsWith(',answered'))) throw new Error('a group not answered');
  });

  await step(
    'kill -9 while recording: the file holds everything up to at most the last second',
    async () => {
      const killed = path.join(scratch, 'killed.pcapng.gz');
      const proc = spawn(
        process.execPath,
        [
          'bin/iommuscope.js',
          'watch',
          '--source',
          'mock',
          '--inject',
          'count=1000000,rate=2000',
          '--policy',
          'success',
          // -q: one status line a second. With --json the guest's slow reader falls behind
          // the fault lines and watch drops lines (stats among them) instead of blocking.
          '-q',
          '--record',
          killed,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const stats: { at: number; faults: number }[] = [];
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.once('exit', (code, sig) => (stderr += `\n(exited ${code ?? sig})`));
      createInterface({ input: proc.stdout! }).on('line', (l) => {
        const m = /^[\d.]+s {2}faults (\d+) /.exec(l);
        if (m) stats.push({ at: Date.now(), faults: Number(m[1]) });
      });
      await waitFor('4 status lines', () => stats.length >= 4, 60_000).catch((err: Error) => {
        proc.kill('SIGKILL');
        throw new Error(`${err.message}; watch's stderr: ${stderr.slice(-2000)}`);
      });
      const killedAt = Date.now();
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
      const r = cli(['replay', killed, '--json', '--speed', 'max']);
      const summary = ndjson(r.stdout).at(-1)!;
      const before = stats.filter((s) => s.at <= killedAt - 1000).at(-1)!;
      facts.killed = {
        exit: r.status,
        fileFaults: summary.faults,
        faultsOneSecondBeforeKill: before.faults,
        closed: summary.closed,
        error: summary.error,
        stderr: r.stderr.trim(),
      };
      if ((summary.faults as number) < before.faults)
        throw new Error(
          `file holds ${String(summary.faults)} faults, ${before.faults} were read a second before the kill`,
        );
      if (summary.closed !== false) throw new Error('a killed recording cannot be closed');
    },
  );

  await step(
    'agent: /metrics during a mock session equals the session totals (Bearer token)',
    async () => {
      const proc = spawn(
        process.execPath,
        [
          'bin/iommuscope.js',
          'agent',
          '--port',
          '0',
          '--source',
          'mock',
          '--inject',
          'count=300,rate=1000',
          '--policy',
          'success',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const lines: string[] = [];
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.once('exit', (code, sig) => (stderr += `\n(exited ${code ?? sig})`));
      createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(l));
      const t0 = Date.now();
      await waitFor('listening', () => lines.length > 0, CLI_START_MS).catch((err: Error) => {
        proc.kill('SIGKILL');
        throw new Error(`${err.message}; the agent's stderr: ${stderr.slice(-2000)}`);
      });
      facts.agentListeningAfterMs = Date.now() - t0;
      const { url, token } = JSON.parse(lines[0]!) as { url: string; token: string };
      let text = '';
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        text = await (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).text();
        if (sum(samples(text), 'iommuscope_groups_answered_total') === 300) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      const summary = JSON.parse(lines.at(-1)!) as Record<string, number>;
      const s = samples(text);
      const scraped = {
        faults: sum(s, 'iommuscope_page_requests_total'),
        groups: sum(s, 'iommuscope_groups_read_total'),
        answered: sum(s, 'iommuscope_groups_answered_total'),
        pending: sum(s, 'iommuscope_groups_pending'),
      };
      facts.agent = { scraped, summary };
      for (const k of ['faults', 'groups', 'answered'] as const)
        if (scraped[k] !== summary[k])
          throw new Error(`${k}: scraped ${scraped[k]}, session ${summary[k]}`);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      facts.promtool = check.error ? 'promtool not in the guest' : check.status;
    },
  );
  finish();
}

void main();
