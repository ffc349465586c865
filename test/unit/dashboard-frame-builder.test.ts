// FrameBuilder: at most MAX_FRAMES_PER_SECOND frames whatever the change
// rate, charts about twice a second, nothing when idle, a heartbeat while a
// session is open. Runs in simulated time (a fake clock), so it is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FRAMES_PER_SECOND, type Frame } from '../../main/common/contract';
import {
  FrameBuilder,
  type Clock,
  type FrameContent,
} from '../../main/node/dashboard/frame-builder';
import { RateWindow } from '../../main/node/dashboard/rate-window';
import { LatencyHistogram } from '../../main/node/dashboard/latency-histogram';

/** Timers run in order of due time when the test advances the clock. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

function content(withCharts: boolean, faults: number): FrameContent {
  const base: FrameContent = {
    t: 0,
    totals: {
      faults,
      groups: faults,
      answered: 0,
      success: 0,
      invalid: 0,
      pending: faults,
      errors: 0,
      overflow: 0,
      malformed: 0,
    },
    faultRate: 0,
    answeredByUser: 0,
    answeredByPolicy: 0,
    answeredByDrain: 0,
    answeredByKernel: 0,
    logSize: faults,
    logDropped: 0,
    logSkipped: 0,
    newest: [],
    injection: null,
    errors: [],
    replay: null,
  };
  if (withCharts) {
    base.rates = { bucketMs: 1000, byDevice: [], byPasid: [] };
    base.latency = new LatencyHistogram().snapshot();
  }
  return base;
}

function setup(heartbeatMs = 1000) {
  const clock = new FakeClock();
  const frames: { at: number; frame: Frame }[] = [];
  let faults = 0;
  const fb = new FrameBuilder({
    source: { frame: (c) => content(c, faults) },
    send: (frame) => frames.push({ at: clock.t, frame }),
    clock,
    heartbeatMs,
  });
  return { clock, frames, fb, fault: () => faults++ };
}

test('a flood of changes (one per 0.1 ms for 10 s) gives at most 30 frames in any second', () => {
  const { clock, frames, fb, fault } = setup();
  for (let i = 0; i < 100_000; i++) {
    fault();
    fb.changed();
    clock.advance(0.1);
  }
  clock.advance(100);
  const perSecond = new Map<number, number>();
  for (const f of frames)
    perSecond.set(Math.floor(f.at / 1000), (perSecond.get(Math.floor(f.at / 1000)) ?? 0) + 1);
  const max = Math.max(...perSecond.values());
  console.log(
    `  ${frames.length} frames for 100000 changes over 10 s; busiest second ${max} frames`,
  );
  assert.ok(max <= MAX_FRAMES_PER_SECOND, `${max} frames in one second`);
  assert.ok(
    frames.length >= 10 * (MAX_FRAMES_PER_SECOND - 2),
    'frames keep flowing during a flood',
  );
  // Sliding check too: no 1000 ms window holds more than the cap.
  for (let i = MAX_FRAMES_PER_SECOND; i < frames.length; i++) {
    assert.ok(frames[i]!.at - frames[i - MAX_FRAMES_PER_SECOND]!.at >= 1000);
  }
  // The last frame has the final counters: coalescing loses no state.
  assert.equal(frames.at(-1)!.frame.totals.faults, 100_000);
  assert.deepEqual(
    frames.map((f) => f.frame.seq),
    frames.map((_, i) => i + 1),
  );
});

test('charts (rates, latency) come about twice a second, counters every frame', () => {
  const { clock, frames, fb, fault } = setup();
  for (let i = 0; i < 5000; i++) {
    fault();
    fb.changed();
    clock.advance(1);
  }
  const withCharts = frames.filter((f) => f.frame.rates && f.frame.latency);
  console.log(`  ${frames.length} frames in 5 s, ${withCharts.length} with charts`);
  assert.ok(withCharts.length >= 9 && withCharts.length <= 11, `${withCharts.length} chart frames`);
  for (let i = 1; i < withCharts.length; i++) {
    assert.ok(withCharts[i]!.at - withCharts[i - 1]!.at >= 500);
  }
  assert.ok(frames.every((f) => f.frame.totals.faults > 0));
});

test('idle: no change and no session → no frames; a session → a 1/s heartbeat', () => {
  const { clock, frames, fb } = setup();
  clock.advance(10_000);
  assert.equal(frames.length, 0, 'nothing changed, nothing sent');
  fb.setActive(true);
  clock.advance(10_000);
  assert.ok(frames.length >= 9 && frames.length <= 10, `${frames.length} heartbeats in 10 s`);
  fb.setActive(false);
  const n = frames.length;
  clock.advance(10_000);
  assert.equal(frames.length, n);
  fb.dispose();
});

test('full() gives a complete frame with charts outside the schedule', () => {
  const { fb, frames } = setup();
  const f = fb.full();
  assert.ok(f.rates && f.latency);
  assert.equal(frames.length, 0);
});

test('rate window: per-second points, cap with "other", old buckets forgotten', () => {
  const w = new RateWindow({ bucketMs: 1000, buckets: 60 });
  for (let dev = 1; dev <= 12; dev++) w.add(`dev:${dev}`, `dev ${dev}`, 500, dev * 10);
  w.add('dev:1', 'dev 1', 1500, 7);
  const s = w.series(2500, 8);
  assert.equal(s.length, 8);
  assert.equal(s.at(-1)!.key, 'other');
  const points = (key: string) => s.find((x) => x.key === key)?.points;
  assert.equal(points('dev:12')!.length, 59);
  assert.equal(points('dev:12')!.at(-2), 120, 'bucket 0 holds dev 12 (120/s)');
  // dev 1..5 are the five quietest: lumped into other = 10+20+30+40+50.
  assert.equal(points('other')!.at(-2), 150);
  assert.equal(points('other')!.at(-1), 7, 'dev 1 in bucket 1');
  assert.equal(w.series(200_000, 8).length, 0, 'a window later, everything is forgotten');
});

test('latency histogram: log edges, quantiles inside the right bucket', () => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 99; i++) h.add(20);
  h.add(50_000);
  const snap = h.snapshot();
  assert.equal(snap.counts.length, snap.edgesUs.length - 1);
  assert.equal(
    snap.counts.reduce((a, b) => a + b, 0),
    100,
  );
  assert.ok(snap.p50Us >= 17.8 && snap.p50Us <= 31.6, `p50 ${snap.p50Us}`);
  assert.ok(h.quantile(1) >= 31_600, 'the slow one is in the top bucket range');
  h.add(1e12);
  h.add(0.001);
  assert.equal(h.counts.at(-1), 1, 'above the last edge: last bucket');
  assert.equal(h.counts[0], 1, 'below the first edge: first bucket');
});
