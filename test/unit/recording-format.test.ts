import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  bufferSource,
  BGZF_EOF,
  encodeBgzfBlock,
  readBgzfBlocks,
} from '../../main/node/recording/bgzf';
import { CaptureWriter } from '../../main/node/recording/capture-writer';
import { readCapture } from '../../main/node/recording/capture-reader';
import { decodeFrame, encodeFrame, type Frame } from '../../main/node/recording/frames';
import {
  enhancedPacket,
  interfaceDescription,
  sectionHeader,
} from '../../main/node/recording/pcapng';
import { spawnSync } from 'node:child_process';
import { BatchAssembler, framesOfBatch } from '../../main/node/recording/batch-frames';
import { encodeBatchFast, TimestampBase } from '../../main/node/recording/batch-encoder';
import { ContractQueue, plainBatch } from '../shared/contract-batches';

const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-rec-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const fixed = {
  toolVersion: '0.1.0-test',
  host: 'bench7',
  kernel: 'Linux 7.3.0 x86_64',
  startWallNs: 1_800_000_000_000_000_000n,
  startMonoNs: 500_000_000n,
};

function write(frames: Frame[], opts: { close?: boolean } = {}): Buffer {
  const file = path.join(dir, `f${fileNo++}.pcapng.gz`);
  const w = CaptureWriter.create(file, fixed);
  for (const f of frames) w.append(f);
  if (opts.close ?? true) w.close('test');
  else w.flush();
  return readFileSync(file);
}

const payloadFrames = (c: ReturnType<typeof readCapture>): unknown[] =>
  c.frames.filter((f) => f.kind !== 'header' && f.kind !== 'end');

const sampleFrames = (): Frame[] => {
  const q = new ContractQueue(3);
  const g1 = q.read({ pages: 2, devId: 4, pasid: 9, perm: 3 });
  q.tick(1500);
  const g2 = q.read({ pages: 1, pasid: null });
  q.answer({ group: g1, code: 0, by: 1, rule: 2 });
  q.error({
    group: g2,
    cookie: 2,
    code: 'EINVAL',
    errno: 22,
    op: 'write',
    message: 'kernel refused',
  });
  const b1 = q.flush();
  q.tick(20_000);
  q.answer({ group: g2, code: 1, by: 0 });
  const b2 = q.flush();
  const times = new Map<number, number>();
  return [
    {
      kind: 'session',
      monoNs: 999_000_000,
      queue: 3,
      source: 'mock',
      policy: { rules: [], fallback: { kind: 'hold' } },
    },
    ...framesOfBatch(b1, q.now, times),
    {
      kind: 'policy',
      monoNs: q.now + 5,
      queue: 3,
      policy: { fallback: { kind: 'success' } },
      by: 'dashboard',
    },
    ...framesOfBatch(b2, q.now + 10, times),
    {
      kind: 'vevent',
      monoNs: q.now + 11,
      viommuId: 2,
      veventqId: 5,
      eventType: 1,
      headerFlags: 0,
      sequence: 7,
      data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    },
    {
      kind: 'host-activity',
      monoNs: q.now + 12,
      activity: 'dma-fault',
      unit: 'dmar0',
      device: '0000:00:05.0',
      reason: 'PTE not present',
      count: 1,
    },
    {
      kind: 'topology-change',
      monoNs: q.now + 13,
      seq: 4,
      changes: [{ kind: 'changed', entity: 'device', id: '0000:00:05.0', fields: ['driver'] }],
    },
    { kind: 'note', monoNs: q.now + 14, text: 'device reset here' },
  ];
};

test('frames: every kind encodes and decodes to itself', () => {
  for (const f of sampleFrames()) {
    const back = decodeFrame(encodeFrame(f), 'monoNs' in f ? f.monoNs : 0);
    assert.deepEqual(back, f, f.kind);
  }
});

test('frames: an unknown type or newer frame version is kept as unknown, not an error', () => {
  const b = Buffer.from([0x99, 0x7f, 1, 0, 0xaa]);
  assert.deepEqual(decodeFrame(b, 5), {
    kind: 'unknown',
    monoNs: 5,
    type: 0x7f99,
    version: 1,
    body: b.subarray(4),
  });
  const newer = encodeFrame({ kind: 'note', monoNs: 1, text: 'x' });
  newer.writeUInt16LE(2, 2);
  assert.equal(decodeFrame(newer, 1).kind, 'unknown');
});

test('frames: a group read whose size does not match its page count is refused', () => {
  const f = encodeFrame(sampleFrames()[1]!);
  assert.throws(() => decodeFrame(f.subarray(0, f.length - 1), 0), /expected/);
});

test('capture: header names host, kernel, tool and both start clocks; any gunzip reads the file', () => {
  const buf = write([]);
  const c = readCapture(bufferSource(buf));
  assert.equal(c.error, null);
  assert.equal(c.closed, true);
  assert.deepEqual(c.header, {
    kind: 'header',
    magic: 'iommuscope-capture',
    formatVersion: 1,
    host: 'bench7',
    kernel: 'Linux 7.3.0 x86_64',
    tool: 'iommuscope',
    toolVersion: '0.1.0-test',
    startWall: new Date(1_800_000_000_000).toISOString(),
    startWallNs: '1800000000000000000',
    startMonoNs: '500000000',
  });
  // BGZF is plain multi-member gzip: the pcapng stream starts with a section header.
  assert.equal(gunzipSync(buf).readUInt32LE(0), 0x0a0d0d0a);
  assert.ok(buf.subarray(buf.length - BGZF_EOF.length).equals(BGZF_EOF));
});

test('capture: frames round-trip through a file, with times exact to the ns', () => {
  const frames = sampleFrames();
  const c = readCapture(bufferSource(write(frames)));
  assert.equal(c.error, null);
  assert.deepEqual(payloadFrames(c), frames);
  assert.equal(c.frames.at(-1)!.kind, 'end');
});

test('capture: batches round-trip exactly (property)', () => {
  const step = fc.oneof(
    fc.record({
      op: fc.constant('read' as const),
      pages: fc.integer({ min: 1, max: 5 }),
      pasid: fc.option(fc.integer({ min: 0, max: 0xfffff })),
      dev: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({
      op: fc.constant('answer' as const),
      pick: fc.nat(),
      code: fc.constantFrom(0 as const, 1 as const),
      by: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
      rule: fc.integer({ min: -1, max: 20 }),
    }),
    fc.record({ op: fc.constant('flush' as const), dt: fc.integer({ min: 1, max: 5_000_000 }) }),
  );
  fc.assert(
    fc.property(
      fc.array(step, { maxLength: 60 }),
      fc.integer({ min: 1, max: 1e9 }),
      (steps, firstGroup) => {
        const q = new ContractQueue(7, { firstGroup });
        const batches = [];
        for (const s of steps) {
          if (s.op === 'read') q.read({ pages: s.pages, pasid: s.pasid, devId: s.dev });
          else if (s.op === 'answer') {
            const p = q.pendingGroups();
            if (p.length)
              q.answer({ group: p[s.pick % p.length]!, code: s.code, by: s.by, rule: s.rule });
          } else {
            q.tick(s.dt);
            batches.push(q.flush());
          }
        }
        batches.push(q.flush());
        const times = new Map<number, number>();
        const frames = batches.flatMap((b, i) => framesOfBatch(b, 2e9 + i * 1000, times));
        const c = readCapture(bufferSource(write(frames)));
        assert.equal(c.error, null);
        const asm = new BatchAssembler();
        const back = c.frames.map((f) => asm.add(f)).filter((b) => b !== null);
        assert.deepEqual(
          back.map((b) => plainBatch(b.batch)),
          batches.map(plainBatch),
        );
        assert.deepEqual(
          back.map((b) => b.deliveredNs),
          batches.map((_, i) => 2e9 + i * 1000),
        );
      },
    ),
    { numRuns: 60 },
  );
});

test('capture: truncated at every offset, every frame before the cut reads and the error names the offset', () => {
  // Small blocks so the file has several: flush after every frame.
  const frames = sampleFrames();
  const file = path.join(dir, 'trunc.pcapng.gz');
  const w = CaptureWriter.create(file, fixed);
  const blockEnds = [{ end: w.stats.fileBytes, frames: 0 }]; // the header's block
  frames.forEach((f, i) => {
    w.append(f);
    w.flush();
    blockEnds.push({ end: w.stats.fileBytes, frames: i + 1 });
  });
  w.close();
  const full = readFileSync(file);
  blockEnds.push({ end: full.length - BGZF_EOF.length, frames: frames.length }); // the End frame's block
  const whole = readCapture(bufferSource(full));
  let lastCount = 0;
  for (let cut = 0; cut < full.length; cut++) {
    const c = readCapture(bufferSource(full.subarray(0, cut)));
    const got = payloadFrames(c);
    // What was read is a prefix of the whole, never shrinking as the cut moves on.
    assert.deepEqual(got, payloadFrames(whole).slice(0, got.length), `cut ${cut}`);
    assert.ok(got.length >= lastCount, `cut ${cut}`);
    lastCount = got.length;
    // Every block wholly before the cut was read.
    const complete = blockEnds.filter((b) => b.end <= cut).at(-1);
    assert.ok(got.length >= (complete?.frames ?? 0), `cut ${cut}: lost a whole block`);
    assert.equal(c.closed, false, `cut ${cut}`);
    const atBoundary = cut === 0 || blockEnds.some((b) => b.end === cut);
    if (!atBoundary || cut === 0) {
      assert.ok(c.error, `cut ${cut}: no error`);
      assert.ok(c.error.offset <= cut, `cut ${cut}: error offset ${c.error.offset}`);
      assert.match(c.error.message, new RegExp(`byte ${c.error.offset}\\b`));
    } else {
      // A cut between blocks reads as a recording that never closed (kill -9): no error, not closed.
      assert.equal(c.error, null, `cut ${cut}: ${c.error?.message}`);
    }
  }
});

test('capture: a flipped byte in one block is a corruption error at that block; earlier blocks still read', () => {
  const frames = sampleFrames();
  const file = path.join(dir, 'corrupt.pcapng.gz');
  const w = CaptureWriter.create(file, fixed);
  const ends: number[] = [];
  for (const f of frames) {
    w.append(f);
    w.flush();
    ends.push(w.stats.fileBytes);
  }
  w.close();
  const full = readFileSync(file);
  const k = 4; // damage the block holding frame k
  const blockStart = ends[k - 1]!;
  for (const at of [blockStart + 20, blockStart + 25, ends[k]! - 6]) {
    const bad = Buffer.from(full);
    bad[at]! ^= 0x40;
    const c = readCapture(bufferSource(bad));
    assert.ok(c.error, `flip at ${at}`);
    assert.equal(c.error.kind, 'corrupt');
    assert.equal(c.error.offset, blockStart);
    assert.deepEqual(payloadFrames(c), frames.slice(0, k));
  }
});

test('capture: wrong files are refused with what they are and what to open instead', () => {
  const r = (b: Buffer): string => readCapture(bufferSource(b)).error?.message ?? 'no error';
  assert.match(
    r(Buffer.from('hello world, not a capture')),
    /not an iommuscope capture.*BGZF.*--record/,
  );
  assert.match(
    r(encodeBgzfBlock(Buffer.from('plain text inside gzip blocks......'))),
    /pcapng section header/,
  );
  // A pcapng whose first packet is not our header (e.g. a network capture recompressed as BGZF).
  const pcap = Buffer.concat([
    sectionHeader({ hardware: 'x', os: 'y', application: 'z' }),
    interfaceDescription('eth0', ''),
    enhancedPacket(0n, encodeFrame({ kind: 'note', monoNs: 0, text: 'hi' })),
  ]);
  assert.match(r(encodeBgzfBlock(pcap)), /first packet is not an iommuscope header/);
  assert.equal(readCapture(bufferSource(Buffer.alloc(0))).error?.offset, 0);
});

test('capture: an unclosed file (killed writer) reads fully but is not marked closed', () => {
  const frames = sampleFrames();
  const c = readCapture(bufferSource(write(frames, { close: false })));
  assert.equal(c.error, null);
  assert.equal(c.closed, false);
  assert.deepEqual(payloadFrames(c), frames);
});

test('capture: refuses to overwrite an existing file unless asked, naming the fix', () => {
  const file = path.join(dir, 'exists.pcapng.gz');
  writeFileSync(file, 'x');
  assert.throws(
    () => CaptureWriter.create(file, fixed),
    /exists: choose another name or delete it/,
  );
  CaptureWriter.create(file, { ...fixed, overwrite: true }).close();
  assert.equal(readCapture(bufferSource(readFileSync(file))).closed, true);
  assert.throws(
    () => CaptureWriter.create(path.join(dir, 'no/such/dir/x'), fixed),
    /ENOENT.*folder does not exist/,
  );
});

test('bgzf: blocks are at most 64 KiB and a large frame spans several', () => {
  const big: Frame = { kind: 'note', monoNs: 1, text: 'z'.repeat(300_000) };
  const buf = write([big]);
  const blocks = [...readBgzfBlocks(bufferSource(buf))];
  assert.ok(blocks.length >= 3);
  for (const b of blocks) assert.ok(b.size <= 65536);
  assert.deepEqual(payloadFrames(readCapture(bufferSource(buf))), [big]);
});

test('capture: Wireshark tools read it as pcapng (capinfos counts every frame)', (t) => {
  const probe = spawnSync('capinfos', ['-h']);
  if (probe.error) return t.skip('capinfos is not installed (Debian: apt-get install tshark)');
  const frames = sampleFrames();
  const file = path.join(dir, 'wireshark.pcapng.gz');
  writeFileSync(file, write(frames));
  const r = spawnSync('capinfos', ['-M', '-c', '-E', '-t', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /pcapng \(gzip compressed\)/);
  assert.match(r.stdout, /encapsulation:\s+user0/);
  assert.match(r.stdout, new RegExp(`Number of packets:\\s+${frames.length + 2}\\b`)); // + header, end
});

test('batch encoder: the fast path writes the same bytes as frames → encodeFrame → EPB (property)', () => {
  const offsets = fc.bigInt({ min: 0n, max: 1n << 62n });
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          pages: fc.integer({ min: 1, max: 4 }),
          answer: fc.boolean(),
          leaveOut: fc.boolean(),
          dt: fc.integer({ min: 0, max: 2 ** 40 }),
        }),
        { maxLength: 30 },
      ),
      offsets,
      fc.integer({ min: 0, max: 2 ** 52 }),
      (reads, offset, start) => {
        const q = new ContractQueue(2, { startNs: start });
        for (const r of reads) {
          q.tick(r.dt);
          const g = q.read({ pages: r.pages, leaveOut: r.leaveOut && r.answer });
          if (r.answer) q.answer({ group: g, code: 1, by: 1, rule: 3 });
        }
        const b = q.flush();
        const slowTimes = new Map<number, number>([[123, 5]]);
        const fastTimes = new Map(slowTimes);
        const frames = framesOfBatch(b, q.now + 7, slowTimes);
        const slow = Buffer.concat(
          frames.map((f) =>
            enhancedPacket(
              offset + BigInt(Math.round(f.kind === 'header' ? 0 : f.monoNs)),
              encodeFrame(f),
            ),
          ),
        );
        const { body, end } = encodeBatchFast(b, q.now + 7, fastTimes, new TimestampBase(offset));
        assert.ok(Buffer.concat([body, end]).equals(slow));
        assert.deepEqual([...fastTimes], [...slowTimes]);
      },
    ),
    { numRuns: 100 },
  );
});
