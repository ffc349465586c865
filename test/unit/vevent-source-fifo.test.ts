// `watch --source vevent` and the dashboard's VeventFeed outside the VM: the
// real native event queue reads a FIFO that a test double of the selftest's
// TRIGGER_VEVENT writes in the kernel's layout (test/shared/fifo-vevent-addon.ts).
// Shows the plumbing: NDJSON and text lines, the summary, the too-old error
// path by errno, frames with rows and totals, and the objects with live counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWatchCommand } from '../../main/node/cli/watch';
import { runVeventWatch } from '../../main/node/cli/watch-vevent';
import { VeventFeed } from '../../main/node/dashboard/vevent-feed';
import type { VeventFrame } from '../../main/common/vevent-contract';
import type { IommufdObjects } from '../../main/common/iommufd-objects';
import { fifoVeventAddon } from '../shared/fifo-vevent-addon';
import { until } from '../shared/until';
import { addonSkipReason, tryLoadAddon } from './addon-available';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bufferSource } from '../../main/node/recording/bgzf';
import { readCapture } from '../../main/node/recording/capture-reader';

const skip = addonSkipReason() ?? false;

async function watch(args: string[], fail?: Parameters<typeof fifoVeventAddon>[1]) {
  const fake = fifoVeventAddon(tryLoadAddon()!, fail);
  const opts = parseWatchCommand(['--source', 'vevent', '--flush-ms', '2', ...args]);
  assert.ok(opts !== 'help' && opts.source === 'vevent');
  const chunks: string[] = [];
  const out = { write: (c: string) => (chunks.push(c), true), once: () => out };
  try {
    const status = await runVeventWatch(opts, { out, addon: fake.addon });
    const text = chunks.join('');
    const json = text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { status, text, json, summary: json.at(-1)! };
  } finally {
    fake.cleanup();
  }
}

test(
  'watch vevent --json: one line per vEVENT in order, with virt id, hex and decode',
  { skip },
  async () => {
    const r = await watch(['--virt-id', '0x99', '--inject', 'count=50', '--json']);
    assert.equal(r.status, 0, r.text.slice(-500));
    const ev = r.json.filter((o) => o.type === 'vevent');
    assert.deepEqual(
      ev.map((e) => e.sequence),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(Object.keys(ev[0]!), [
      'type',
      'queue',
      'sequence',
      'virtId',
      'data',
      'decoded',
    ]);
    assert.equal(ev[0]!.virtId, '153');
    assert.equal(ev[0]!.data, '99000000');
    assert.deepEqual(ev[0]!.decoded, { kind: 'selftest', summary: 'selftest virt id 0x99' });
    assert.equal(r.summary.type, 'summary');
    assert.equal(r.summary.events, 50);
    assert.equal(r.summary.injected, 50);
    assert.equal(r.summary.stopReason, 'injection done');
    assert.equal(r.summary.clean, true);
  },
);

test(
  'watch vevent --record: the session frame, then one vevent frame per event, in order',
  { skip },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-vevent-rec-'));
    try {
      const file = path.join(dir, 'v.pcapng.gz');
      const r = await watch(['--inject', 'count=30', '--json', '--record', file]);
      assert.equal(r.status, 0);
      const c = readCapture(bufferSource(readFileSync(file)));
      assert.equal(c.error, null);
      assert.equal(c.closed, true);
      assert.ok(c.frames.some((f) => f.kind === 'session' && f.source === 'vevent'));
      const ev = c.frames.filter((f) => f.kind === 'vevent');
      assert.deepEqual(
        ev.map((f) => f.kind === 'vevent' && f.sequence),
        Array.from({ length: 30 }, (_, i) => i),
      );
      assert.ok(
        ev.every((f) => f.kind === 'vevent' && f.eventType === 0xbeefbeef && f.data.length === 4),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('watch vevent text: one line per vEVENT, then the status line', { skip }, async () => {
  const r = await watch(['--inject', 'count=3']);
  assert.equal(r.status, 0);
  const lines = r.text
    .split('\n')
    .filter((l) => / vevent q \d+ seq \d virt 1 selftest virt id 0x1 \[01000000\]$/.test(l));
  assert.equal(lines.length, 3, r.text);
  assert.match(r.text, /vevents 3 \(\d+\/s\) {2}lost 0/);
});

test(
  'negative: VIOMMU_ALLOC ENOTTY (an old kernel) gives the too-old error, exit 1, unclean summary',
  { skip },
  async () => {
    const r = await watch(['--inject', 'count=3', '--json'], { fail: { viommuAlloc: 'ENOTTY' } });
    assert.equal(r.status, 1);
    assert.equal(r.summary.clean, false);
    assert.match(
      String(r.summary.error),
      /too old for vEVENTQs.*vIOMMU came in Linux 6\.13.*Linux 6\.15/,
    );
    const q = await watch(['--json'], { fail: { veventqAlloc: 'ENOTTY' } });
    assert.match(String(q.summary.error), /has vIOMMU but no vEVENTQ.*Linux 6\.15/);
  },
);

test(
  'negative: a failing TRIGGER_VEVENT stops the injection and makes the run unclean',
  { skip },
  async () => {
    const r = await watch(['--inject', 'count=5', '--json'], {
      fail: { triggerVevent: 'EOPNOTSUPP' },
    });
    assert.equal(r.status, 1);
    assert.equal(r.summary.injectFailed, 1);
    assert.match(String(r.summary.injectError), /no TRIGGER_VEVENT/);
  },
);

test(
  'VeventFeed: frames carry the rows and totals; objects show vIOMMU, vDEVICE, vEVENTQ counts',
  { skip },
  async () => {
    const fake = fifoVeventAddon(tryLoadAddon()!);
    const frames: VeventFrame[] = [];
    const objects: (IommufdObjects | null)[] = [];
    const feed = new VeventFeed({
      send: (f) => frames.push(f),
      onObjects: (o) => objects.push(o),
      addon: fake.addon,
    });
    try {
      assert.throws(
        () => feed.trigger({ count: 1, rate: 0, prefill: 0 }),
        /no vEVENTQ source is open/,
      );
      const st = feed.open({ depth: 64, virtId: 7n });
      assert.equal(st.open, true);
      assert.equal(st.typeName, 'selftest');
      assert.throws(() => feed.open({ depth: 64, virtId: 7n }), /already open/);
      feed.trigger({ count: 20, rate: 0, prefill: 0 });
      await until('20 rows', () => frames.flatMap((f) => f.rows).length >= 20, 10_000);
      const rows = frames.flatMap((f) => f.rows);
      assert.deepEqual(
        rows.map((r) => r.kind === 'event' && r.sequence),
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.ok(rows.every((r) => r.kind === 'event' && r.virtId === '7'));
      await until('totals 20', () => frames.at(-1)!.totals.read === 20, 10_000);
      const g = feed.objects()!;
      const types = g.nodes.map((n) => n.type).sort();
      assert.deepEqual(types, [
        'device',
        'hwpt',
        'hwpt',
        'hwpt',
        'ioas',
        'vdevice',
        'veventq',
        'viommu',
      ]);
      const q = g.nodes.find((n) => n.type === 'veventq');
      assert.ok(q?.type === 'veventq' && q.read === 20 && q.lost === 0 && q.depth === 64);
      assert.ok(g.edges.some((e) => e.kind === 'vdevice'));
      const closed = feed.close();
      assert.equal(closed.open, false);
      assert.equal(objects.at(-1), null, 'the Topology view is told the objects are gone');
      assert.equal(frames.at(-1)!.state.open, false);
      assert.equal(frames.at(-1)!.totals.read, 20, 'the final totals stay');
    } finally {
      feed.dispose();
      fake.cleanup();
    }
  },
);
