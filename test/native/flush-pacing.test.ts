// How often a queue hands batches to JS (FLUSH_PACING in addon-types.ts):
// every flush interval while JS is quick; when a batch takes JS long, the next
// one waits ten times as long (at most 100 ms), so a slow JS thread leaves the
// CPU to the reader. Every group is answered and reaches JS either way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../shared/until';
import { simQueue, spec, success } from './addon';

const RATE = 2000; // groups/s, steady for the whole run
const RUN_MS = 1200;

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // JS busy with a batch, as a slow renderer or a loaded machine makes it
  }
}

/** Gaps (ms) between the starts of consecutive batches while injecting, when each takes JS `jsMs`. */
async function batchGaps(jsMs: number) {
  const q = simQueue(); // flushIntervalMs 2
  const starts: number[] = [];
  let reads = 0;
  let answered = 0;
  try {
    q.setPolicy(success);
    q.start((b) => {
      starts.push(performance.now());
      reads += b.read.group.length;
      answered = b.totals.answered;
      spin(jsMs);
    });
    const count = (RATE * RUN_MS) / 1000;
    q.inject(spec({ count, rate: RATE }));
    await waitFor('all injected', () => q.injectProgress().done, 30_000);
    const during = starts.slice();
    await waitFor('all flushed', () => reads === count && answered === count, 30_000);
    return during.slice(1).map((t, i) => t - during[i]!);
  } finally {
    q.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('a quick JS callback gets a batch about every flush interval', async () => {
  const gaps = await batchGaps(0);
  assert.ok(gaps.length > 20, `only ${gaps.length + 1} batches in ${RUN_MS} ms`);
  assert.ok(median(gaps) < 50, `median gap ${median(gaps).toFixed(1)} ms, flush interval 2 ms`);
});

test('a slow JS callback gets batches ten times its own time apart, at most 100 ms', async () => {
  const gaps = await batchGaps(30); // 30 ms per batch: the next is 100 ms (capped, not 300) after it returns
  assert.ok(gaps.length >= 3, `only ${gaps.length + 1} batches`);
  for (const g of gaps) assert.ok(g >= 120, `a gap of ${g.toFixed(1)} ms: JS took 30 ms`);
  assert.ok(median(gaps) < 250, `median gap ${median(gaps).toFixed(1)} ms: the cap is 100 ms`);
});

test('a slightly slow JS callback stretches the gap in proportion', async () => {
  const gaps = await batchGaps(4); // 4 ms per batch: the next about 40 ms after it returns
  assert.ok(gaps.length >= 5, `only ${gaps.length + 1} batches`);
  for (const g of gaps) assert.ok(g >= 40, `a gap of ${g.toFixed(1)} ms: JS took 4 ms`);
  assert.ok(median(gaps) < 90, `median gap ${median(gaps).toFixed(1)} ms: about 44 expected`);
});
