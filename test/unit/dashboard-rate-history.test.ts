// The Live charts' rate history fed the core's own frames (RateWindow at the
// core's series cap): 8 devices x 64 PASIDs at 50 page requests/s, so the
// core's top list changes on almost every frame. The PASID chart's stacked
// total must equal the device chart's at every bucket, exactly, and the
// series ids of a chart must be unique (ECharts refuses a duplicated id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateWindow } from '../../main/node/dashboard/rate-window';
import { MAX_RATE_SERIES } from '../../main/node/dashboard/session-view';
import { MAX_TRACKED, OTHER_SERIES, RateHistory } from '../../main/common/rate-history';

const HISTORY = 600;
/** The renderer's TOP_SERIES: more than the core sends, as in the Live view. */
const TOP = 12;

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

interface Run {
  byDevice: RateHistory;
  byPasid: RateHistory;
  newest: number;
}

/** `seconds` of faults at `perSecond`, spread over devices x pasids, a frame with charts every 500 ms. */
function run(seconds: number, perSecond: number, devices: number, pasids: number): Run {
  const coreDev = new RateWindow();
  const corePasid = new RateWindow();
  const byDevice = new RateHistory(HISTORY);
  const byPasid = new RateHistory(HISTORY);
  const rand = rng(12);
  const stepMs = 1000 / perSecond;
  let nextFrame = 500;
  for (let t = 0; t <= seconds * 1000; t += stepMs) {
    const dev = Math.floor(rand() * devices);
    const pasid = 1 + Math.floor(rand() * pasids);
    coreDev.add(`dev:${dev}`, `dev ${dev}`, t, 1);
    corePasid.add(`pasid:${dev}:${pasid}`, `dev ${dev} · PASID ${pasid}`, t, 1);
    if (t >= nextFrame) {
      nextFrame += 500;
      byDevice.merge(coreDev.series(t, MAX_RATE_SERIES), coreDev.bucketMs, t);
      byPasid.merge(corePasid.series(t, MAX_RATE_SERIES), corePasid.bucketMs, t);
    }
  }
  return { byDevice, byPasid, newest: byDevice.newestBucket };
}

test('8 devices x 64 PASIDs at 50/s: the PASID total equals the device total at every bucket', () => {
  const r = run(180, 50, 8, 64);
  assert.equal(r.byPasid.newestBucket, r.newest, 'both charts end at the same bucket');
  assert.ok(r.newest >= 170, `history covers the run (newest bucket ${r.newest})`);
  for (let b = 1; b <= r.newest; b++) {
    const dev = r.byDevice.totalAt(b);
    const pasid = r.byPasid.totalAt(b);
    assert.equal(pasid, dev, `bucket ${b}: PASID total ${pasid}/s, device total ${dev}/s`);
    assert.equal(dev, 50, `bucket ${b}: the injected rate, 50/s`);
  }
});

test('the drawn window (top 12 + other) stacks to the device total at every point', () => {
  const r = run(90, 50, 8, 64);
  const dev = r.byDevice.window(HISTORY, TOP);
  const pasid = r.byPasid.window(HISTORY, TOP);
  assert.deepEqual(pasid.times, dev.times);
  const ids = pasid.series.map((s) => s.key);
  assert.equal(new Set(ids).size, ids.length, `unique series ids: ${ids.join(', ')}`);
  assert.ok(pasid.series.length <= TOP + 1, `${pasid.series.length} series at most top + other`);
  assert.equal(ids.filter((k) => k === OTHER_SERIES).length, 1, "one 'other'");
  for (let i = 0; i < dev.times.length; i++) {
    const d = dev.series.reduce((a, s) => a + s.values[i]!, 0);
    const p = pasid.series.reduce((a, s) => a + s.values[i]!, 0);
    assert.equal(p, d, `point ${i} (t=${dev.times[i]} s): PASID ${p}/s vs device ${d}/s`);
  }
});

test('a series that leaves the core top list keeps no stale values in its newest buckets', () => {
  const h = new RateHistory(HISTORY);
  const pts = (v: number): number[] => new Array<number>(59).fill(v);
  h.merge(
    [
      { key: 'pasid:0:1', label: 'a', points: pts(10) },
      { key: OTHER_SERIES, label: 'other', points: pts(5) },
    ],
    1000,
    60_000,
  );
  // The next second, PASID 1 is no longer named: its share is inside 'other'.
  h.merge([{ key: OTHER_SERIES, label: 'other', points: pts(15) }], 1000, 61_000);
  const w = h.window(60, TOP);
  const a = w.series.find((s) => s.key === 'pasid:0:1');
  // Bucket 1 left the core's window: it keeps the split of the last frame that covered it.
  assert.deepEqual(
    a?.values,
    [10, ...new Array<number>(59).fill(0)],
    'PASID 1: zero wherever the newest frame speaks for it',
  );
  for (let b = 2; b <= h.newestBucket; b++) assert.equal(h.totalAt(b), 15, `bucket ${b}`);
  assert.equal(h.totalAt(1), 15, 'bucket 1 keeps its old split: 10 + 5');
});

test(`more than ${MAX_TRACKED} distinct series: the quietest are folded into 'other', the total is kept`, () => {
  const h = new RateHistory(HISTORY);
  for (let k = 0; k < 3 * MAX_TRACKED; k++) {
    // One new series per second, in a frame covering that second only.
    const points = [1 + (k % 5)];
    h.merge([{ key: `pasid:0:${k}`, label: `PASID ${k}`, points }], 1000, (k + 2) * 1000);
  }
  assert.ok(h.seriesCount <= MAX_TRACKED + 1, `${h.seriesCount} rings kept`);
  for (let k = 0; k < 3 * MAX_TRACKED; k++) {
    assert.equal(h.totalAt(k + 1), 1 + (k % 5), `bucket ${k + 1}`);
  }
  const ids = h.window(HISTORY, TOP).series.map((s) => s.key);
  assert.equal(new Set(ids).size, ids.length, 'unique ids with a folded other');
});

test('a change of bucket size starts the history over; a negative case: nothing before the first frame', () => {
  const h = new RateHistory(HISTORY);
  assert.deepEqual(h.window(60, TOP), { times: [], series: [] });
  h.merge([{ key: 'dev:1', label: 'dev 1', points: [3, 4] }], 1000, 3000);
  assert.equal(h.totalAt(2), 4);
  h.merge([{ key: 'dev:1', label: 'dev 1', points: [7] }], 500, 3000);
  assert.equal(h.bucketMs, 500);
  assert.equal(h.seriesCount, 1);
  assert.equal(h.totalAt(5), 7);
  assert.equal(h.totalAt(2), 0, 'old buckets are gone');
});
