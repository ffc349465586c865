// The read-only vEVENTQ format on the native event-queue engine, fed through
// a FIFO in the kernel's exact layout (struct iommufd_vevent_header
// { u32 flags; u32 sequence } then the type's data; a LOST_EVENTS header has
// no data): sequence gaps, lost markers, wrap-around, caps and errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  VEVENTQ_FLAG_LOST_EVENTS,
  type NativeEventQueue,
  type VeventBatch,
} from '../../main/node/native/addon-types';
import { waitFor } from '../shared/until';
import { addon } from './addon';

const LOST = VEVENTQ_FLAG_LOST_EVENTS;
const INT_MAX = 0x7fffffff;

interface Ev {
  flags: number;
  sequence: number;
  /** The selftest's struct iommu_viommu_event_selftest { u32 virt_id }; absent for a marker. */
  virtId?: number;
}

/** The bytes read() returns for these vEVENTs, with 4 data bytes per event. */
function layout(events: Ev[]): Buffer {
  const parts = events.map((e) => {
    const b = Buffer.alloc(e.flags & LOST ? 8 : 12);
    b.writeUInt32LE(e.flags, 0);
    b.writeUInt32LE(e.sequence, 4);
    if (!(e.flags & LOST)) b.writeUInt32LE(e.virtId ?? 0, 8);
    return b;
  });
  return Buffer.concat(parts);
}

/** A FIFO: the queue reads one end (opened read-write, so it never hangs up), we write the other. */
function fifo(readFlags = constants.O_RDWR) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-veventq-'));
  const p = path.join(dir, 'q');
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
  const readFd = openSync(p, readFlags | constants.O_NONBLOCK);
  const writeFd = openSync(p, constants.O_WRONLY | constants.O_NONBLOCK);
  return { readFd, writeFd, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function eventQueue(fd: number, over: { jsBufferEvents?: number } = {}) {
  return addon().createEventQueue({
    kind: 'veventq',
    fd,
    dataBytes: 4,
    flushIntervalMs: 2,
    ...over,
  });
}

function collectEvents(q: NativeEventQueue) {
  const seen = { batches: [] as VeventBatch[], events: [] as (Ev & { lostBefore: number })[] };
  q.start((b) => {
    seen.batches.push(b);
    const e = b.events;
    const data = new DataView(b.data);
    e.sequence.forEach((sequence, i) => {
      const flags = e.flags[i] ?? -1;
      const len = e.length[i] ?? 0;
      const ev: Ev & { lostBefore: number } = {
        flags,
        sequence,
        lostBefore: e.lostBefore[i] ?? -1,
      };
      if (len === 4) ev.virtId = data.getUint32(e.offset[i] ?? 0, true);
      seen.events.push(ev);
    });
  });
  return seen;
}

test('vEVENTs in the kernel layout: data, sequence gaps, lost markers and wrap-around', async () => {
  const f = fifo();
  const q = eventQueue(f.readFd);
  try {
    const seen = collectEvents(q);
    const sent: Ev[] = [
      { flags: 0, sequence: 0, virtId: 0x11 },
      { flags: 0, sequence: 1, virtId: 0x22 },
      { flags: 0, sequence: 2, virtId: 0x33 },
      { flags: 0, sequence: 5, virtId: 0x44 }, // 3 and 4 lost
      { flags: LOST, sequence: 6 }, // lost at the tail: 6
      { flags: 0, sequence: 7, virtId: 0x55 },
    ];
    writeSync(f.writeFd, layout(sent));
    await waitFor('6 events', () => seen.events.length === 6);
    assert.deepEqual(
      seen.events,
      sent.map((e, i) => ({ ...e, lostBefore: [0, 0, 0, 2, 1, 0][i] })),
    );
    // Step: after INT_MAX comes 0, without a gap.
    writeSync(
      f.writeFd,
      layout([
        { flags: 0, sequence: INT_MAX, virtId: 1 },
        { flags: 0, sequence: 0, virtId: 2 },
      ]),
    );
    await waitFor('8 events', () => seen.events.length === 8);
    assert.deepEqual(
      seen.events.slice(6).map((e) => [e.sequence, e.lostBefore]),
      [
        [INT_MAX, INT_MAX - 8],
        [0, 0],
      ],
    );
    const t = q.totals();
    assert.deepEqual(
      [t.events, t.lostMarkers, t.lost, t.malformed, t.overflow, t.errors],
      [7, 1, 3 + INT_MAX - 8, 0, 0, 0],
    );
    assert.equal(t.bytes, 7 * 12 + 8);
    assert.equal(
      seen.batches.reduce((n, b) => n + b.lost, 0),
      t.lost,
    );
    assert.ok(seen.batches.every((b) => b.queue === q.id));
  } finally {
    q.close();
    closeSync(f.writeFd);
    f.cleanup();
  }
});

test('vEVENTQ: unknown flag bits and a torn event are counted as malformed', async () => {
  const f = fifo();
  const q = eventQueue(f.readFd);
  try {
    const seen = collectEvents(q);
    writeSync(f.writeFd, layout([{ flags: 0x80, sequence: 0, virtId: 9 }]));
    await waitFor('1 event', () => seen.events.length === 1);
    assert.deepEqual(seen.events[0], { flags: 0x80, sequence: 0, virtId: 9, lostBefore: 0 });
    assert.equal(q.totals().malformed, 1, 'unknown flags: counted, still delivered');
    // Negative: half an event (the kernel never splits one) is dropped and counted.
    writeSync(f.writeFd, layout([{ flags: 0, sequence: 1, virtId: 3 }]).subarray(0, 10));
    await waitFor('torn event counted', () => q.totals().malformed === 2);
    assert.equal(seen.events.length, 1);
  } finally {
    q.close();
    closeSync(f.writeFd);
    f.cleanup();
  }
});

test('vEVENTQ: past jsBufferEvents events are counted as overflow; lost markers always arrive', async () => {
  const f = fifo();
  const q = eventQueue(f.readFd, { jsBufferEvents: 2 });
  try {
    const seen = collectEvents(q);
    writeSync(
      f.writeFd,
      layout([
        { flags: 0, sequence: 0 },
        { flags: 0, sequence: 1 },
        { flags: 0, sequence: 2 },
        { flags: LOST, sequence: 3 },
        { flags: 0, sequence: 4 },
      ]),
    );
    await waitFor('read', () => q.totals().events === 4);
    await waitFor('flushed', () => seen.events.length === 3);
    assert.deepEqual(
      seen.events.map((e) => [e.sequence, e.flags]),
      [
        [0, 0],
        [1, 0],
        [3, LOST],
      ],
    );
    const t = q.totals();
    assert.deepEqual([t.overflow, t.lost, t.lostMarkers], [2, 1, 1]);
    assert.equal(
      seen.batches.reduce((n, b) => n + b.overflow, 0),
      2,
    );
  } finally {
    q.close();
    closeSync(f.writeFd);
    f.cleanup();
  }
});

test('vEVENTQ: a writer hanging up is one clear read error, then reading stops', async () => {
  const f = fifo(constants.O_RDONLY);
  const q = eventQueue(f.readFd);
  try {
    const seen = collectEvents(q);
    writeSync(f.writeFd, layout([{ flags: 0, sequence: 0, virtId: 1 }]));
    closeSync(f.writeFd);
    await waitFor('error', () => seen.batches.some((b) => b.errors.length > 0));
    assert.equal(seen.events.length, 1, 'the event written before the hang-up was read');
    const errors = seen.batches.flatMap((b) => b.errors);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, 'EPIPE');
    assert.match(errors[0]?.message ?? '', /hung up/);
    assert.equal(q.totals().errors, 1);
  } finally {
    q.close();
    f.cleanup();
  }
});

test('vEVENTQ: ids come from the same counter as fault queues; bad options throw EARG', () => {
  const a = addon();
  const earg = (e: NodeJS.ErrnoException) => e instanceof TypeError && e.code === 'EARG';
  const f = fifo();
  const fq = a.createFaultQueue({ kind: 'sim' });
  const eq = eventQueue(f.readFd);
  try {
    assert.ok(eq.id > fq.id);
    assert.throws(() => a.createEventQueue({ kind: 'nope' } as never), earg);
    assert.throws(() => a.createEventQueue({ kind: 'veventq', dataBytes: 4 } as never), earg);
    assert.throws(
      () => a.createEventQueue({ kind: 'veventq', fd: 99999, dataBytes: 1 << 20 }),
      (e: NodeJS.ErrnoException) => earg(e) && /dataBytes/.test(e.message),
    );
    assert.throws(() => eq.start('x' as never), earg);
    eq.close();
    assert.equal(eq.closed, true);
    assert.throws(
      () => eq.start(() => {}),
      (e: NodeJS.ErrnoException) => e.code === 'EBADF',
    );
  } finally {
    eq.close();
    fq.close();
    closeSync(f.writeFd);
    f.cleanup();
  }
});
