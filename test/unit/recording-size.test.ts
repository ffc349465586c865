// Bytes per page request of a capture, measured on two realistic workloads
// (printed for the README) and held to a bound so a format change that
// bloats it fails here.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CaptureWriter } from '../../main/node/recording/capture-writer';
import { framesOfBatch } from '../../main/node/recording/batch-frames';
import { ContractQueue } from '../shared/contract-batches';

const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-size-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/**
 * `pages` one-page groups at `rate`/s over 4 PASIDs, answered by policy
 * 2-40 µs after the read, delivered in 10 ms batches; the writer flushes on
 * every batch with answers (as the recorder does).
 */
function measure(
  name: string,
  pages: number,
  rate: number,
  groupPages = 1,
): { raw: number; file: number } {
  const q = new ContractQueue(1);
  const file = path.join(dir, `${name}.pcapng.gz`);
  const w = CaptureWriter.create(file, { toolVersion: 'size-test' });
  const times = new Map<number, number>();
  const perBatch = Math.max(1, Math.round((rate * 0.01) / groupPages));
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  let done = 0;
  while (done < pages) {
    for (let i = 0; i < perBatch && done < pages; i++) {
      const g = q.read({ pages: groupPages, pasid: 1 + (done % 4), perm: 3 });
      q.answer({
        group: g,
        code: 0,
        by: 1,
        rule: 0,
        latencyNs: Math.round(2000 + rand() * 38_000),
      });
      q.tick(Math.round(1e9 / rate) * groupPages);
      done += groupPages;
    }
    for (const f of framesOfBatch(q.flush(), q.now, times)) w.append(f);
    w.flush();
  }
  const stats = w.close();
  assert.equal(statSync(file).size, stats.fileBytes);
  const raw = stats.rawBytes / pages;
  const perPage = stats.fileBytes / pages;
  console.log(
    `${name}: ${pages} page requests, ${raw.toFixed(1)} B/page raw pcapng, ${perPage.toFixed(1)} B/page in the file ` +
      `(${(stats.rawBytes / stats.fileBytes).toFixed(1)}x), ${stats.blocks} BGZF blocks`,
  );
  return { raw, file: perPage };
}

test('size: 100k single-page requests at 100k/s (10 ms batches, 1000 per batch)', () => {
  const m = measure('fast', 100_000, 100_000);
  assert.ok(m.raw < 180, `raw ${m.raw}`);
  assert.ok(m.file < 40, `file ${m.file}`);
});

test('size: 5k single-page requests at 500/s (10 ms batches of 5: many small blocks)', () => {
  const m = measure('slow', 5_000, 500);
  assert.ok(m.file < 90, `file ${m.file}`);
});

test('size: 100k page requests in 4-page groups at 100k/s', () => {
  const m = measure('groups', 100_000, 100_000, 4);
  assert.ok(m.file < 30, `file ${m.file}`);
});
