// The Events view's model (main/common/vevent-table.ts) fed fake
// 'vevent.frame' events: rows in arrival order, the lost counter and loss
// rows, the bound on rows (counted when they fall out), a new queue starting
// a new table, and a closed source keeping what it showed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VeventFrame, VeventUiRow } from '../../main/common/vevent-contract';
import { VeventTable } from '../../main/common/vevent-table';
import { decodeVevent, VeventType } from '../../main/common/vevent-decode';

const state = (queue: number | null, open = true) => ({
  open,
  device: 'mock',
  queue,
  typeName: 'selftest',
  depth: 8,
  virtId: '1',
  canTrigger: true,
  lastError: null,
});

let n = 0;
function ev(sequence: number): VeventUiRow {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(1);
  return {
    kind: 'event',
    n: n++,
    sequence,
    t: sequence,
    virtId: '1',
    decoded: decodeVevent(VeventType.Selftest, new Uint8Array(data)),
    hex: data.toString('hex'),
  };
}
const lost = (after: number, count: number): VeventUiRow => ({
  kind: 'lost',
  n: n++,
  t: 0,
  after,
  lost: count,
  marker: true,
});

function frame(
  queue: number | null,
  rows: VeventUiRow[],
  read: number,
  lostTotal = 0,
  open = true,
): VeventFrame {
  return {
    state: state(queue, open),
    totals: {
      read,
      lost: lostTotal,
      lostMarkers: lostTotal ? 1 : 0,
      errors: 0,
      overflow: 0,
      injected: read + lostTotal,
      injectFailed: 0,
    },
    rows,
    rowsSkipped: 0,
  };
}

test('frames append rows in arrival order; the lost counter and loss rows follow the kernel', () => {
  const t = new VeventTable();
  t.apply(frame(7, [0, 1, 2, 3, 4, 5, 6, 7].map(ev), 8));
  t.apply(frame(7, [lost(7, 4), ev(12), ev(13)], 10, 4));
  assert.deepEqual(
    t.rows.map((r) => (r.kind === 'event' ? r.sequence : `lost ${r.lost}`)),
    [0, 1, 2, 3, 4, 5, 6, 7, 'lost 4', 12, 13],
  );
  assert.equal(t.lost, 4);
  assert.equal(t.lossRows, 1);
  assert.equal(t.totals.read, 10);
  const newest = t.newest(2);
  assert.equal(newest[0]!.kind === 'event' && newest[0]!.sequence, 13, 'newest first');
});

test('negative: past maxRows the oldest rows fall out and are counted; skipped rows too', () => {
  const t = new VeventTable(5);
  t.apply(frame(3, [0, 1, 2, 3].map(ev), 4));
  t.apply({ ...frame(3, [4, 5, 6].map(ev), 7), rowsSkipped: 2 });
  assert.deepEqual(
    t.rows.map((r) => r.kind === 'event' && r.sequence),
    [2, 3, 4, 5, 6],
  );
  assert.equal(t.rowsDropped, 2 + 2);
});

test('a frame of another queue starts a new table; a closed source keeps its rows', () => {
  const t = new VeventTable();
  t.apply(frame(3, [ev(0), lost(0, 2)], 1, 2));
  t.apply(frame(null, [], 1, 2, false));
  assert.equal(t.rows.length, 2, 'closing keeps what was shown');
  assert.equal(t.state?.open, false);
  t.apply(frame(9, [ev(0)], 1));
  assert.equal(t.rows.length, 1);
  assert.equal(t.lossRows, 0);
  assert.equal(t.lost, 0);
});
