// watch output without a queue: NDJSON and text lines from native-shaped
// batches (every line parses, group on every event, records left out still
// named), and the buffered writer's backpressure (waits for 'drain', counts
// what it had to drop, never blocks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { decodeBatch } from '../../main/node/session/decode-batch';
import type { FaultBatch } from '../../main/node/native/addon-types';
import { batchToNdjson } from '../../main/node/cli/watch-output';
import { TextFormatter, fmtLatency, permColumns } from '../../main/node/cli/watch-text';
import { OutWriter } from '../../main/node/cli/out-writer';
import { encodeFaultRecord } from '../../main/common/fault-record';
import { zeroQueueTotals } from '../../main/node/native/queue-totals';

const zeroTotals = zeroQueueTotals();

/** Group 17: two pages (r, then w) with PASID 3; group 18 left out; group 19: no PASID. */
function batch(): FaultBatch {
  const records = new ArrayBuffer(3 * 40);
  const rec = (i: number, flags: number, perm: number, addrLo: number, cookie: number, pasid = 3) =>
    encodeFaultRecord(
      { flags, devId: 1, pasid, grpid: 5, perm, addrHi: 0, addrLo, length: 0, cookie },
      new DataView(records, i * 40, 40),
    );
  rec(0, 1, 1, 0x100000, 2);
  rec(1, 3, 2, 0x101000, 2);
  rec(2, 2, 9, 0x200000, 4, 0);
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
    answered: {
      group: new Float64Array([17, 18, 12]),
      cookie: new Uint32Array([2, 3, 1]),
      codes: new Uint8Array([0, 1, 1]),
      by: new Uint8Array([1, 1, 3]),
      rule: new Int16Array([0, -1, -1]),
      latencyNs: new Float64Array([12_300, 2_500_000, NaN]),
    },
    errors: [
      { group: 19, cookie: 4, code: 'EINVAL', errno: 22, op: 'write', message: 'refused\x1b[2J' },
    ],
    overflow: 1,
    totals: zeroTotals,
  };
}

test('NDJSON: a fault per page and a response per answer, all with group; every line is JSON', () => {
  const { text, lines } = batchToNdjson(decodeBatch(batch(), 1));
  const events = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(events.length, lines);
  const faults = events.filter((e) => e.type === 'fault');
  assert.deepEqual(
    faults.map((e) => [e.group, e.addr ?? null, e.perm ?? null, e.pasid ?? null]),
    [
      ['17', '0x100000', 'r', 3],
      ['17', '0x101000', 'w', 3],
      ['18', null, null, null],
      ['19', '0x200000', 'rp', null],
    ],
  );
  assert.equal(
    faults[2]!.recordsLeftOut,
    true,
    'a group whose records were left out is still named',
  );
  assert.deepEqual(faults[1]!.flags, ['PASID_VALID', 'LAST_PAGE']);
  const responses = events.filter((e) => e.type === 'response');
  assert.deepEqual(
    responses.map((e) => [e.group, e.code, e.by, e.rule, e.latencyNs]),
    [
      ['17', 'success', 'policy', 0, 12_300],
      ['18', 'invalid', 'policy', -1, 2_500_000],
      ['12', 'invalid', 'kernel', -1, null],
    ],
  );
  const error = events.find((e) => e.type === 'error')!;
  assert.equal(error.group, '19');
  assert.deepEqual(events.at(-1), { type: 'overflow', records: 1, groups: 1 });
});

test('text: one tcpdump-style line per group and per answer, at the wall-clock microsecond', () => {
  // CLOCK_MONOTONIC 5 s ↔ local 12:00:01.000000 today.
  const wall = new Date();
  wall.setHours(12, 0, 1, 0);
  const f = new TextFormatter(5e9, wall.getTime());
  const { text, lines } = f.batch(decodeBatch(batch(), 1), 5e9 + 9e6);
  assert.deepEqual(text.trimEnd().split('\n'), [
    '12:00:01.000000 group 17 dev 1 pasid 3 grp 5 cookie 2 rw- 0x100000 +2p',
    '12:00:01.000001 group 18 cookie 3 +1p (records left out)',
    '12:00:01.000002 group 19 dev 1 pasid - grp 5 cookie 4 r--p 0x200000 +1p',
    '12:00:01.000012 group 17 success by policy rule 0 12.3us',
    '12:00:01.002501 group 18 invalid by policy default 2.50ms',
    '12:00:01.009000 group 12 invalid by kernel -',
    '12:00:01.009000 error group 19 cookie 4 EINVAL write: refused\\x1b[2J',
  ]);
  assert.equal(lines, 7);
  assert.equal(permColumns(0), '---');
  assert.equal(fmtLatency(1.5e9), '1.50s');
});

class SlowStream extends EventEmitter {
  chunks: string[] = [];
  full = false;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }
}

test('OutWriter: waits for drain when the stream is full, bounds its backlog, reports lost lines', async () => {
  const out = new SlowStream();
  const w = new OutWriter(out, (n) => `lost ${n}\n`, 10);
  w.write('a\n');
  assert.deepEqual(out.chunks, ['a\n']);
  // Step: the stream says it is full: later chunks wait here, not in the stream.
  out.full = true;
  w.write('b\n');
  w.write('c\n');
  w.write('d\n');
  assert.deepEqual(out.chunks, ['a\n', 'b\n'], 'nothing more handed over until drain');
  // Past the 10-byte backlog, lines are counted as lost instead of kept.
  w.write('0123456789\n', 3);
  assert.equal(w.lost, 3);
  let idle = false;
  const done = w.idle().then(() => (idle = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(idle, false, 'not idle while blocked');
  // Step: drain: the backlog goes in one write, then the lost-lines notice.
  out.full = false;
  out.emit('drain');
  await done;
  assert.deepEqual(out.chunks, ['a\n', 'b\n', 'c\nd\nlost 3\n']);
  w.write('e\n');
  assert.equal(out.chunks.at(-1), 'e\n');
});
