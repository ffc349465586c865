// The activity core on a stream recorded from iommuscope-capture in the
// 7.3 VM (edu DMA fault, bind to vfio-pci, 200 map/unmap pairs through
// iommufd, unbind), fed in arbitrary chunks; the frame reader's limits; and
// the CLI's terminal escaping and NDJSON shape.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ActivityEvent, TimedFault } from '../../main/common/activity/stream';
import { ActivityCore } from '../../main/node/activity/activity-core';
import { FrameReader, MAX_FRAME, traceSamples } from '../../main/node/activity/frames';
import type { RatesEvent } from '../../main/node/activity/rates';
import { escapeTerminal, faultJson, faultLine } from '../../main/node/cli/activity-format';

const stream = readFileSync(
  path.resolve(
    __dirname,
    '..',
    '..',
    '..',
    'test',
    'fixtures',
    'activity',
    'kernel-7.3',
    'capture-stream.bin',
  ),
);

async function replay(chunk: (i: number) => number) {
  const core = new ActivityCore({
    helper: null,
    resolve: (d) => ({ group: d === '0000:00:05.0' ? 5 : null, driver: null }),
  });
  const events: (ActivityEvent | RatesEvent)[] = [];
  core.on((e) => events.push(e));
  for (let off = 0, i = 0; off < stream.length; i++) {
    const n = chunk(i);
    core.onData(stream.subarray(off, off + n));
    off += n;
  }
  const rates = (core as unknown as { rates: { take(): RatesEvent } }).rates.take();
  await core.stop();
  return { core, events: events.filter((e) => e.type !== 'rates') as ActivityEvent[], rates };
}

for (const [name, chunk] of [
  ['one byte at a time', () => 1],
  ['4 KiB reads', () => 4096],
  ['odd sizes', (i: number) => 1 + ((i * 7919) % 3001)],
] as const) {
  test(`recorded 7.3 stream, ${name}: one decoded fault, attach events, every map counted`, async () => {
    const { core, events, rates } = await replay(chunk);
    const sources = events.filter((e) => e.type === 'source');
    assert.deepEqual(
      sources.map((s) => s.type === 'source' && [s.source, s.ok]),
      [
        ['kmsg', true],
        ['tracepoints', true],
        ['interrupts', true],
        ['debugfs', true],
      ],
    );
    const faults = events.filter((e): e is TimedFault => e.type === 'dma-fault');
    assert.equal(faults.length, 1);
    const f = faults[0]!;
    assert.deepEqual(
      [f.unit, f.device, f.group, f.addr, f.access, f.reason, f.reasonText],
      ['dmar0', '0000:00:05.0', 5, '0x5550000', 'read', 6, 'PTE Read access is not set'],
    );
    assert.ok(Math.abs(f.time - Date.now()) < 365 * 24 * 3600e3, 'a wall-clock time');
    assert.ok(
      events.some(
        (e) => e.type === 'topology' && e.change === 'attach' && e.device === '0000:00:05.0',
      ),
    );
    assert.equal(rates.map.total, 200);
    assert.equal(rates.unmap.total, 200);
    assert.ok(rates.units.find((u) => u.unit === 'dmar0'));
    assert.equal(core.counters.traceUndecoded, 0);
    assert.equal(core.counters.unparsed, 0);
    assert.deepEqual(rates.lost, { trace: 0, kmsg: 0 });
  });
}

test('frame reader: a length beyond the limit stops the stream with the reason', () => {
  const r = new FrameReader();
  const bad = Buffer.alloc(8);
  bad.writeUInt32LE(MAX_FRAME + 1, 0);
  bad.writeUInt16LE(3, 4);
  assert.deepEqual(r.push(bad), []);
  assert.match(r.error ?? '', /corrupt capture stream: frame of 1048577 bytes/);
  const good = Buffer.alloc(8);
  assert.deepEqual(r.push(good), [], 'nothing after a corrupt frame');
});

test('frame reader: frames split anywhere come out whole and in order', () => {
  const frame = (type: number, body: string) => {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(body.length, 0);
    h.writeUInt16LE(type, 4);
    return Buffer.concat([h, Buffer.from(body)]);
  };
  const all = Buffer.concat([frame(3, 'a'), frame(3, ''), frame(7, 'xyz')]);
  const r = new FrameReader();
  const out = [...all].flatMap((b) => r.push(Buffer.from([b])));
  assert.deepEqual(
    out.map((f) => [f.type, f.payload.toString()]),
    [
      [3, 'a'],
      [3, ''],
      [7, 'xyz'],
    ],
  );
});

test('trace frame: a sample cut short is reported, the whole ones kept', () => {
  const p = Buffer.alloc(8 + 12 + 4 + 12);
  p.writeUInt32LE(1, 0);
  p.writeUInt32LE(2, 4);
  p.writeBigUInt64LE(5n, 8);
  p.writeUInt32LE(4, 16);
  p.writeBigUInt64LE(6n, 24);
  p.writeUInt32LE(100, 32);
  const { samples, truncated } = traceSamples(p);
  assert.equal(samples.length, 1);
  assert.equal(truncated, true);
});

test('terminal output escapes control characters from kernel strings', () => {
  assert.equal(escapeTerminal('dev\x1b[2Jname\\'), 'dev\\x1b[2Jname\\\\');
  const f = {
    type: 'dma-fault',
    vendor: 'intel',
    unit: 'dmar0',
    device: '0000:00:05.0',
    streamId: null,
    pasid: null,
    addr: '0x1000',
    access: 'read',
    reason: 6,
    reasonName: 'x',
    reasonText: 'evil\x1b]0;title\x07',
    meaning: '',
    walk: [],
    extra: {},
    bootUs: 0,
    seq: 1,
    raw: [],
    group: 5,
    driver: null,
    time: 0,
  } satisfies TimedFault;
  assert.doesNotMatch(faultLine(f), /\x1b|\x07/); // eslint-disable-line no-control-regex
  assert.deepEqual(Object.keys(faultJson(f)).slice(0, 10), [
    'type',
    'unit',
    'device',
    'pasid',
    'addr',
    'access',
    'reason',
    'reasonText',
    'walk',
    'time',
  ]);
});

test('counts frame: the helper-side sums land in the same rates as decoded samples', async () => {
  const core = new ActivityCore({ helper: null });
  const body = Buffer.from(
    JSON.stringify({
      map: { count: 3, bytes: 12288 },
      unmap: { count: 2, bytes: 8192 },
      qi: { dmar0: { iotlb_inv: 4, inv_wait: 4 } },
      flush: { 'dmar0 0000:00:05.0': 2 },
      prq: { 'dmar0 0000:00:05.0': 1 },
      bad: 1,
    }),
  );
  const h = Buffer.alloc(8);
  h.writeUInt32LE(body.length, 0);
  h.writeUInt16LE(11, 4);
  core.onData(Buffer.concat([h, body]));
  const r = (core as unknown as { rates: { take(now: number): RatesEvent } }).rates.take(
    Date.now() + 1000,
  );
  await core.stop();
  assert.equal(r.map.total, 3);
  assert.equal(r.unmap.total, 2);
  const u = r.units.find((x) => x.unit === 'dmar0')!;
  assert.ok(u.invalidations > 0 && u.invalidationsByKind.iotlb_inv! > 0);
  assert.equal(u.maps, r.map.perSecond, 'the only unit carries the host-wide map rate');
  assert.ok(
    r.devices.find((d) => d.device === '0000:00:05.0' && d.pageRequests > 0 && d.iotlbFlushes > 0),
  );
  assert.equal(core.counters.traceUndecoded, 1);
});
