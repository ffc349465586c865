// `watch --filter`: which groups and answers are printed, on native-shaped
// batches (read-time fields decide at read; answer fields at the answer;
// records left out never match; nothing stays remembered once answered),
// bad filter text is a usage error with a caret, and end to end on the
// simulator (exit 2 for bad text; NDJSON with only the matching groups).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { decodeBatch } from '../../main/node/session/decode-batch';
import type { FaultBatch } from '../../main/node/native/addon-types';
import { batchToNdjson } from '../../main/node/cli/watch-output';
import { TextFormatter } from '../../main/node/cli/watch-text';
import { WatchFilter } from '../../main/node/cli/watch-filter';
import { parseWatchArgs, parseWatchFilter } from '../../main/node/cli/watch';
import { UsageError } from '../../main/node/cli/args';
import { encodeFaultRecord } from '../../main/common/fault-record';
import { addonSkipReason } from './addon-available';
import { zeroQueueTotals } from '../../main/node/native/queue-totals';

const root = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'iommuscope.js');

const totals = zeroQueueTotals();

const noAnswers = {
  group: new Float64Array(0),
  cookie: new Uint32Array(0),
  codes: new Uint8Array(0),
  by: new Uint8Array(0),
  rule: new Int16Array(0),
  latencyNs: new Float64Array(0),
};

/**
 * Read batch: group 17 (dev 1, PASID 3, two pages r then w at 0x100000 and
 * 0x101000), group 18 (records left out), group 19 (dev 2, no PASID, rp at
 * 0x200000). Nothing answered yet.
 */
function readBatch(): FaultBatch {
  const records = new ArrayBuffer(3 * 40);
  const rec = (i: number, o: { flags: number; dev: number; perm: number; addrLo: number }) =>
    encodeFaultRecord(
      {
        flags: o.flags,
        devId: o.dev,
        pasid: o.flags & 1 ? 3 : 0,
        grpid: 5,
        perm: o.perm,
        addrHi: 0,
        addrLo: o.addrLo,
        length: 0,
        cookie: i === 2 ? 4 : 2,
      },
      new DataView(records, i * 40, 40),
    );
  rec(0, { flags: 1, dev: 1, perm: 1, addrLo: 0x100000 });
  rec(1, { flags: 3, dev: 1, perm: 2, addrLo: 0x101000 });
  rec(2, { flags: 2, dev: 2, perm: 9, addrLo: 0x200000 });
  return {
    queue: 1,
    read: {
      group: new Float64Array([17, 18, 19]),
      cookie: new Uint32Array([2, 3, 4]),
      first: new Uint32Array([0, 0xffffffff, 2]),
      pages: new Uint32Array([2, 1, 1]),
      readNs: new Float64Array([5e9, 5e9 + 1000, 5e9 + 2000]),
    },
    records,
    answered: noAnswers,
    errors: [],
    overflow: 1,
    totals,
  };
}

/** Answer batch: 17 Success by policy rule 0 in 12.3 µs, 18 Invalid by policy, 19 Invalid by user in 2.5 ms, 12 by the kernel. */
function answerBatch(): FaultBatch {
  return {
    queue: 1,
    read: {
      group: new Float64Array(0),
      cookie: new Uint32Array(0),
      first: new Uint32Array(0),
      pages: new Uint32Array(0),
      readNs: new Float64Array(0),
    },
    records: new ArrayBuffer(0),
    answered: {
      group: new Float64Array([17, 18, 19, 12]),
      cookie: new Uint32Array([2, 3, 4, 1]),
      codes: new Uint8Array([0, 1, 1, 1]),
      by: new Uint8Array([1, 1, 0, 3]),
      rule: new Int16Array([0, -1, -1, -1]),
      latencyNs: new Float64Array([12_300, 2_000, 2_500_000, NaN]),
    },
    errors: [],
    overflow: 0,
    totals,
  };
}

/** Groups whose fault events and whose responses were printed (NDJSON), over both batches. */
function printed(text: string): { faults: string[]; responses: string[] } {
  const f = new WatchFilter(parseWatchFilter(text));
  const events: Record<string, unknown>[] = [];
  for (const [seq, b] of [readBatch(), answerBatch()].entries()) {
    const d = decodeBatch(b, seq + 1);
    const out = batchToNdjson(d, f.select(d));
    const lines = out.text.split('\n').filter(Boolean);
    assert.equal(lines.length, out.lines, 'line count matches');
    events.push(...lines.map((l) => JSON.parse(l) as Record<string, unknown>));
  }
  assert.equal(f.remembered, 0, 'nothing remembered once every group is answered');
  const groups = (type: string): string[] => [
    ...new Set(events.filter((e) => e.type === type).map((e) => String(e.group))),
  ];
  return { faults: groups('fault'), responses: groups('response') };
}

test('read-time fields: the matching groups and their answers, nothing else', () => {
  assert.deepEqual(printed('pasid == 3'), { faults: ['17'], responses: ['17'] });
  assert.deepEqual(printed('!pasid'), { faults: ['19'], responses: ['19'] });
  assert.deepEqual(printed('dev == 2 && perm.p'), { faults: ['19'], responses: ['19'] });
  // addr: any page by default, every page with all.
  assert.deepEqual(printed('addr == 0x101000'), { faults: ['17'], responses: ['17'] });
  assert.deepEqual(printed('all addr >= 0x101000'), { faults: ['19'], responses: ['19'] });
  assert.deepEqual(printed('pages == 2 && perm contains "rw"'), {
    faults: ['17'],
    responses: ['17'],
  });
  assert.deepEqual(printed('group in {18..19}'), { faults: ['19'], responses: ['19'] });
});

test('answer fields decide at the answer: only the answers that match are printed', () => {
  assert.deepEqual(printed('latency > 1ms'), { faults: [], responses: ['19'] });
  assert.deepEqual(printed('by == policy'), { faults: [], responses: ['17'] });
  assert.deepEqual(printed('state == invalid'), { faults: [], responses: ['19'] });
  // A group that matches as read prints its answer whatever it was.
  assert.deepEqual(printed('state == pending'), { faults: ['17', '19'], responses: ['17', '19'] });
  assert.deepEqual(printed('pasid == 3 || code == invalid'), {
    faults: ['17'],
    responses: ['17', '19'],
  });
});

test('the empty filter prints every group, records-left-out ones included; a group read earlier but unseen is not printed', () => {
  assert.deepEqual(printed(''), { faults: ['17', '18', '19'], responses: ['17', '18', '19'] });
});

test('text mode takes the same selection', () => {
  const f = new WatchFilter(parseWatchFilter('dev == 1'));
  const fmt = new TextFormatter(5e9, Date.now());
  const d1 = decodeBatch(readBatch(), 1);
  const d2 = decodeBatch(answerBatch(), 2);
  const a = fmt.batch(d1, 5e9, f.select(d1));
  const b = fmt.batch(d2, 5e9, f.select(d2));
  const lines = (a.text + b.text).split('\n').filter(Boolean);
  assert.equal(lines.length, a.lines + b.lines);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, / group 17 dev 1 pasid 3 /);
  assert.match(lines[1]!, / group 17 success by policy rule 0 /);
});

test('bad filter text is a usage error naming the problem with a caret under it', () => {
  assert.throws(
    () => parseWatchArgs(['--filter', 'pasid in {1..}']),
    (err: unknown) =>
      err instanceof UsageError &&
      /--filter: expected a number after '\.\.' at 11/.test(err.message) &&
      err.message.includes('pasid in {1..}\n           ^^ expected a number'),
  );
  assert.throws(() => parseWatchArgs(['--filter', 'bogus == 1']), /unknown field 'bogus'/);
  const ok = parseWatchArgs(['--filter', 'dev == 1']);
  assert.ok(ok !== 'help' && ok.filter !== undefined);
});

test('CLI: a bad --filter exits 2 with the caret message, before opening anything', () => {
  const r = spawnSync(process.execPath, [bin, 'watch', '--filter', 'dev === 1'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--filter: '=': use '==' to compare at 6/);
  assert.match(r.stderr, /\n {6}\^ '=': use '==' to compare/);
  assert.equal(r.stdout, '');
});

const skip = addonSkipReason();
test(
  'CLI on the simulator: only the matching groups and their answers are printed; the summary counts all',
  { skip: skip ?? false },
  () => {
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'watch',
        '--source',
        'sim',
        '--inject',
        'count=40,pasids=1-4',
        '--policy',
        'success',
        '--json',
        '--filter',
        'pasid in {1..2}',
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const faults = events.filter((e) => e.type === 'fault');
    const responses = events.filter((e) => e.type === 'response');
    assert.equal(faults.length, 20, 'PASIDs 1 and 2 of 1-4, round robin');
    assert.ok(faults.every((e) => e.pasid === 1 || e.pasid === 2));
    assert.deepEqual(
      responses.map((e) => e.group).sort(),
      faults.map((e) => e.group).sort(),
      'exactly the answers of the printed groups',
    );
    const summary = events.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.groups, 40);
    assert.equal(summary.answered, 40);
  },
);
