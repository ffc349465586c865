import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { exportRecording, parseExportArgs, type ExportOptions } from '../../main/node/cli/export';
import { recordSession } from '../shared/recorded-session';

const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-export-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'iommuscope.js');
const session = recordSession(path.join(dir, 's.pcapng.gz'), 8, 20);
const total = session.batches.at(-1)!.totals;

function run(
  opts: Omit<ExportOptions, 'file'>,
  file = session.file,
): { text: string; error: string | null } {
  let text = '';
  const error = exportRecording({ file, ...opts }, (t) => (text += t));
  return { text, error: error?.message ?? null };
}

/** A small RFC 4180 reader (quoted cells with "" escapes), independent of the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = (): void => {
    row.push(cell);
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\n') {
      endCell();
      rows.push(row);
      row = [];
    } else cell += c;
  }
  return rows;
}

test('export csv groups: one row per group, read joined with its answer', () => {
  const rows = parseCsv(run({ format: 'csv', table: 'groups' }).text);
  const [head, ...body] = rows;
  assert.deepEqual(head, [
    'queue',
    'group',
    'cookie',
    'dev',
    'pasid',
    'grpid',
    'perm',
    'addr',
    'pages',
    'read_ns',
    'answer_ns',
    'latency_ns',
    'code',
    'by',
    'rule',
    'state',
  ]);
  assert.equal(body.length, total.groups);
  const g1 = body.find((r) => r[1] === '1')!;
  assert.deepEqual(g1, [
    '5',
    '1',
    '1',
    '1',
    '1',
    '1',
    'r',
    '0x110000',
    '1',
    String(session.batches[0]!.read.readNs[0]),
    String(session.batches[0]!.read.readNs[0]! + 20e6),
    '20000000',
    'success',
    'policy',
    '0',
    'answered',
  ]);
  const byCount = (by: string): number => body.filter((r) => r[13] === by).length;
  assert.equal(byCount('policy'), total.byPolicy);
  assert.equal(byCount('user'), total.byUser);
  assert.equal(byCount('drain'), total.byDrain);
  assert.equal(body.filter((r) => r[15] === 'pending').length, 0);
  assert.equal(
    body.reduce((n, r) => n + Number(r[8]), 0),
    total.faults,
  );
});

test('export csv events: a row per page request, response, batch and set-up frame; JSON detail is quoted', () => {
  const rows = parseCsv(run({ format: 'csv', table: 'events' }).text).slice(1);
  assert.equal(rows.filter((r) => r[1] === 'fault').length, total.faults);
  assert.equal(rows.filter((r) => r[1] === 'response').length, total.answered);
  assert.equal(rows.filter((r) => r[1] === 'batch').length, 8);
  const sessionRow = rows.find((r) => r[1] === 'session')!;
  assert.deepEqual(JSON.parse(sessionRow[14]!), {
    queue: 5,
    source: 'mock',
    policy: { fallback: { kind: 'success' } },
  });
  assert.ok(rows.every((r) => r.length === 15));
});

test('export ndjson: events are the replay --json lines; groups are camelCase objects', () => {
  const events = run({ format: 'ndjson', table: 'events' })
    .text.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(events.filter((e) => e.type === 'fault').length, total.faults);
  assert.ok(events.filter((e) => e.type === 'response').every((e) => typeof e.group === 'string'));
  const groups = run({ format: 'ndjson', table: 'groups' })
    .text.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(groups.length, total.groups);
  assert.deepEqual(Object.keys(groups[0]).slice(0, 4), ['type', 'queue', 'group', 'cookie']);
  assert.equal(groups[0].type, 'group');
});

test('export perfetto: devices are processes, PASIDs threads, groups non-overlapping slices, rates counters', () => {
  const trace = JSON.parse(run({ format: 'perfetto', table: 'groups' }).text) as {
    traceEvents: {
      ph: string;
      name: string;
      pid: number;
      tid?: number;
      ts?: number;
      dur?: number;
      args?: Record<string, unknown>;
    }[];
  };
  const ev = trace.traceEvents;
  const procs = ev
    .filter((e) => e.ph === 'M' && e.name === 'process_name')
    .map((e) => e.args!.name);
  assert.deepEqual(procs.sort(), ['device 1', 'device 2', 'fault queue 5']);
  const threads = ev.filter((e) => e.ph === 'M' && e.name === 'thread_name');
  assert.ok(threads.some((t) => t.args!.name === 'PASID 2'));
  const slices = ev.filter((e) => e.ph === 'X');
  assert.equal(slices.length, total.groups);
  const g1 = slices.find((s) => s.args!.group === 1)!;
  assert.equal(g1.ts, session.batches[0]!.read.readNs[0]! / 1000);
  assert.equal(g1.dur, 20_000);
  assert.equal(g1.args!.by, 'policy');
  // Slices on one (pid, tid) never overlap: Perfetto requires proper nesting.
  const byTrack = new Map<string, { ts: number; end: number }[]>();
  for (const s of slices) {
    const k = `${s.pid}:${s.tid}`;
    byTrack.set(k, [...(byTrack.get(k) ?? []), { ts: s.ts!, end: s.ts! + s.dur! }]);
  }
  for (const [k, list] of byTrack) {
    list.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < list.length; i++)
      assert.ok(list[i]!.ts >= list[i - 1]!.end, `overlap on ${k}`);
  }
  const counters = ev.filter((e) => e.ph === 'C');
  assert.ok(counters.some((c) => c.name === 'page requests/s' && c.pid === 1001));
  const pending = counters.filter((c) => c.name === 'pending groups');
  assert.equal(pending.length, 8);
  assert.equal(pending.at(-1)!.args!.pending, 0);
});

test('export: a torn file exports what precedes the tear and reports it; cli exits 1 with the byte', () => {
  const full = readFileSync(session.file);
  const torn = path.join(dir, 'torn.pcapng.gz');
  writeFileSync(torn, full.subarray(0, full.length - 40));
  const r = run({ format: 'csv', table: 'events' }, torn);
  assert.match(r.error!, /byte \d+/);
  assert.ok(parseCsv(r.text).length > 10);
  const out = path.join(dir, 'torn.json');
  const cli = spawnSync(
    process.execPath,
    [bin, 'export', torn, '--format', 'perfetto', '--output', out],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 1);
  assert.match(cli.stderr, /everything before byte \d+ was exported/);
  assert.ok(
    Array.isArray(JSON.parse(readFileSync(out, 'utf8')).traceEvents),
    'still a valid trace',
  );
  const ok = spawnSync(process.execPath, [bin, 'export', session.file, '--format', 'csv'], {
    encoding: 'utf8',
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(parseCsv(ok.stdout).length, total.groups + 1);
});

test('export args: format is required and checked; --table only for tables', () => {
  assert.throws(() => parseExportArgs(['f']), /--format csv\|ndjson\|perfetto is needed/);
  assert.throws(() => parseExportArgs(['f', '--format', 'xml']), /must be csv, ndjson or perfetto/);
  assert.throws(
    () => parseExportArgs(['f', '--format', 'perfetto', '--table', 'events']),
    /--table is for csv and ndjson/,
  );
  assert.throws(() => parseExportArgs(['--format', 'csv']), /which recording/);
  assert.deepEqual(parseExportArgs(['f', '--format', 'ndjson', '--table', 'events']), {
    file: 'f',
    format: 'ndjson',
    table: 'events',
  });
});
