// RateArchive: the core's long rate history (1 s for 10 min, 10 s for 24 h)
// behind rates.history: the tier picked per window, rates exact per bucket,
// averaged down to the points asked for, older than a tier's span gone, and
// at most ARCHIVE_MAX_KEYS series kept (the rest counted as 'other').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARCHIVE_MAX_KEYS, RateArchive } from '../../main/node/dashboard/rate-archive';
import { requests } from '../../main/common/contract';
import { validate } from '../../main/common/schema';

test('10 minutes at 1 s, beyond at 10 s; exact rates; averaged to the points asked', () => {
  const a = new RateArchive();
  // Step: 5 page requests per second for dev 1 during the first hour, then nothing for 5 s.
  for (let s = 0; s < 3600; s++) a.add('dev:1', 'dev 1', s * 1000 + 500, 5);
  const now = 3605_000;
  const short = a.view(now, 600, 2000, 8);
  assert.equal(short.bucketMs, 1000, '10 min: the 1 s tier');
  const pts = short.series[0]!.points;
  assert.equal(pts.length, 600);
  assert.deepEqual(pts.slice(-5), [0, 0, 0, 0, 0], 'the last 5 s are idle');
  assert.equal(pts[0], 5, '5/s inside the hour');
  const hour = a.view(now, 3600, 2000, 8);
  assert.equal(hour.bucketMs, 10_000, '1 h: the 10 s tier');
  assert.equal(hour.series[0]!.points.length, 360);
  assert.equal(hour.series[0]!.points[100], 5, 'a 10 s bucket still reads 5/s');
  assert.equal(hour.tEndMs, 3600_000);
  // Averaged: 360 buckets into at most 100 points → 4 per point, rates kept.
  const coarse = a.view(now, 3600, 100, 8);
  assert.equal(coarse.bucketMs, 40_000);
  assert.equal(coarse.series[0]!.points.length, 90);
  assert.equal(coarse.series[0]!.points[10], 5);
  // Negative: a day asked, only the hour had traffic: the first 23 h read 0.
  const day = a.view(now, 86_400, 8640, 8);
  assert.equal(day.series[0]!.points.length, 8640);
  assert.equal(day.series[0]!.points[0], 0);
});

test('history older than the 24 h tier is gone; series are bounded', () => {
  const a = new RateArchive();
  a.add('dev:1', 'dev 1', 1000, 10);
  assert.equal(a.view(2000 + 86_500_000, 86_400, 1000, 8).series.length, 0, 'aged out');
  const b = new RateArchive();
  for (let k = 0; k < ARCHIVE_MAX_KEYS + 20; k++) b.add(`dev:${k}`, `dev ${k}`, 500, 1);
  const v = b.view(1500, 600, 600, 1000);
  const other = v.series.find((s) => s.key === 'other');
  assert.equal(v.series.length, ARCHIVE_MAX_KEYS + 1, 'the keys past the cap are one other');
  assert.equal(other?.points.at(-1), 20, 'their requests are counted, not lost');
});

test('rates.history params: seconds 10..86400, points 10..2000', () => {
  const p = requests['rates.history'].params;
  validate(p, { seconds: 3600 }, 'params');
  assert.throws(
    () => validate(p, { seconds: 90_000 }, 'params'),
    /params\.seconds: 90000 is outside/,
  );
  assert.throws(() => validate(p, { seconds: 60, points: 5 }, 'params'), /params\.points/);
  assert.throws(() => validate(p, {}, 'params'), /params\.seconds/);
});
