// The dashboard core's vevent.* requests through the same dispatch the
// transports use, on the FIFO double of the selftest vEVENTQ
// (test/shared/fifo-vevent-addon.ts) read by the real native event queue:
// open, trigger, frames with rows and totals, the Topology objects with live
// counts, the Record button writing vevent frames, close; and the refusals
// (no source, bad spec, prefill, virt id 0, a second open).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { EventEnvelope } from '../../main/common/contract';
import type { VeventFrame } from '../../main/common/vevent-contract';
import { CoreService } from '../../main/node/dashboard/core-service';
import { bufferSource } from '../../main/node/recording/bgzf';
import { readCapture } from '../../main/node/recording/capture-reader';
import { fifoVeventAddon } from '../shared/fifo-vevent-addon';
import { until } from '../shared/until';
import { addonSkipReason, tryLoadAddon } from './addon-available';
import { coreClient, staticHost } from '../shared/core-client';

const host = staticHost();

test(
  'vevent.* requests: open, trigger, frames, topology, recording, close; refusals',
  { skip: addonSkipReason() ?? false },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-dash-vevent-'));
    const fake = fifoVeventAddon(tryLoadAddon()!);
    const core = new CoreService({
      version: 'test',
      mode: 'browser',
      host,
      recordingDir: dir,
      sessionDefaults: { addon: fake.addon },
    });
    const frames: VeventFrame[] = [];
    core.subscribe((e: EventEnvelope) => {
      if (e.event === 'vevent.frame') frames.push(e.payload as VeventFrame);
    });
    const { raw, refused } = coreClient(core);
    const ok = async (method: string, params: unknown): Promise<unknown> => {
      const r = await raw(method, params);
      if (!r.ok) throw new Error(`${method}: [${r.error.code}] ${r.error.message}`);
      return r.result;
    };
    try {
      // Step: nothing open: state closed, trigger refused.
      assert.equal(((await ok('vevent.state', {})) as { open: boolean }).open, false);
      assert.equal((await refused('vevent.trigger', { spec: 'count=1' })).code, 'ENOSESSION');
      // Negative: the mock's virt id 0 and a depth out of range are refused before anything opens.
      assert.equal((await refused('vevent.open', { depth: 8, virtId: '0' })).code, 'EPARAMS');
      assert.equal((await refused('vevent.open', { depth: 0, virtId: '1' })).code, 'EPARAMS');

      // Step: open on the mock, record, trigger 25.
      const st = (await ok('vevent.open', { depth: 64, virtId: '0x5' })) as {
        open: boolean;
        virtId: string;
      };
      assert.equal(st.open, true);
      assert.equal(st.virtId, '5');
      assert.equal((await refused('vevent.open', { depth: 64, virtId: '1' })).code, 'EBUSY');
      await ok('recording.start', { name: 'vev' });
      assert.match(
        (await refused('vevent.trigger', { spec: 'cont=3' })).message,
        /did you mean 'count'/,
      );
      assert.equal(
        (await refused('vevent.trigger', { spec: 'count=3,prefill=1' })).code,
        'EPARAMS',
      );
      await ok('vevent.trigger', { spec: 'count=25' });
      await until('25 read', () => frames.at(-1)?.totals.read === 25, 10_000);
      const rows = frames.flatMap((f) => f.rows);
      assert.deepEqual(
        rows.map((r) => r.kind === 'event' && r.sequence),
        Array.from({ length: 25 }, (_, i) => i),
      );
      assert.equal(frames.at(-1)!.totals.injected, 25);

      // Step: the Topology view gets the vEVENTQ objects while no fault session is open.
      const objects = (await ok('topology.objects', {})) as {
        nodes: { type: string; read?: number }[];
      };
      assert.equal(objects.nodes.find((n) => n.type === 'veventq')?.read, 25);
      assert.ok(objects.nodes.some((n) => n.type === 'vdevice'));

      // Step: the recording holds one vevent frame per event.
      const rec = (await ok('recording.stop', {})) as { path: string };
      const c = readCapture(bufferSource(readFileSync(rec.path)));
      assert.equal(c.frames.filter((f) => f.kind === 'vevent').length, 25);

      // Step: close: state closed, the final totals kept, topology gone.
      assert.equal(((await ok('vevent.close', {})) as { open: boolean }).open, false);
      assert.equal(frames.at(-1)!.totals.read, 25);
      assert.equal(await ok('topology.objects', {}), null);
    } finally {
      await core.close();
      fake.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
