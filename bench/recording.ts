// `npm run bench:recording`: the recorder's main-thread cost per page
// request (encode + compress + write), against a reference measured in the
// same run: deflateRawSync of the same uncompressed bytes (what compression
// alone costs), and the file size per page request.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { Recorder } from '../main/node/recording/recorder';
import { encodeBatchFast, TimestampBase } from '../main/node/recording/batch-encoder';
import type { FaultBatch } from '../main/node/native/addon-types';
import { ContractQueue } from '../test/shared/contract-batches';

const PAGES = 200_000;
const PER_BATCH = 1000; // 100k/s in 10 ms batches

function batches(): FaultBatch[] {
  const q = new ContractQueue(1);
  const out: FaultBatch[] = [];
  for (let b = 0; b < PAGES / PER_BATCH; b++) {
    for (let i = 0; i < PER_BATCH; i++) {
      const g = q.read({ pages: 1, pasid: 1 + (i % 4), perm: 3 });
      q.answer({ group: g, code: 0, by: 1, rule: 0, latencyNs: 2000 + ((i * 7919) % 38_000) });
      q.tick(10_000);
    }
    out.push(q.flush());
  }
  return out;
}

function usPerPage(ns: bigint): number {
  return Number(ns) / 1000 / PAGES;
}

const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-bench-rec-'));
try {
  const bs = batches();
  let run = 0;
  // Best of 3 for both (the machine may be shared); the first run also warms up the JIT.
  const best = (fn: () => bigint): bigint => [fn(), fn(), fn()].reduce((a, b) => (b < a ? b : a));
  for (const level of [1, 6]) {
    let st = { fileBytes: 0, rawBytes: 0 };
    const recNs = best(() => {
      const rec = Recorder.start({
        path: path.join(dir, `r${run++}.pcapng.gz`),
        toolVersion: 'bench',
        level,
      });
      const t0 = process.hrtime.bigint();
      for (const b of bs) rec.batch(b);
      const t1 = process.hrtime.bigint();
      st = rec.stop();
      return t1 - t0;
    });
    // Reference: compressing the same bytes, nothing else.
    const raw = bs.map((b) => {
      const { body, end } = encodeBatchFast(b, 0, new Map(), new TimestampBase(0n));
      return Buffer.concat([body, end]);
    });
    const refNs = best(() => {
      const r0 = process.hrtime.bigint();
      for (const r of raw)
        for (let off = 0; off < r.length; off += 0xff00)
          deflateRawSync(r.subarray(off, off + 0xff00), { level });
      return process.hrtime.bigint() - r0;
    });
    const rec_us = usPerPage(recNs);
    const ref_us = usPerPage(refNs);
    console.log(
      `level ${level}: recorder ${rec_us.toFixed(2)} µs/page request (${(1 / rec_us).toFixed(2)} M/s of one core), ` +
        `deflate alone ${ref_us.toFixed(2)} µs (ratio ${(rec_us / ref_us).toFixed(2)}), ` +
        `${(st.fileBytes / PAGES).toFixed(1)} B/page request in the file, ${(st.rawBytes / PAGES).toFixed(1)} raw`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
