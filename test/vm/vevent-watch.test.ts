// `watch --source vevent` against each real kernel. Two boots per kernel:
//  -i none: the selftest mock's vIOMMU/vDEVICE/vEVENTQ: 200 vEVENTs read in
//           order with their sequence numbers and virt id; a depth-8 queue
//           overfilled by a 12-event burst before the reader starts shows
//           one LOST_EVENTS line (4 lost after sequence 7) and the reading
//           resumes at 12; text lines; --record then export; SIGINT mid-run
//           ends cleanly with the summary; a read-rate figure. On 6.12 every
//           run fails with the too-old error (VIOMMU_ALLOC is ENOTTY).
//  -i vtd:  edu on vfio-pci behind the emulated VT-d: the kernel's refusal,
//           named with the unit (VT-d has no vIOMMU type).
import assert from 'node:assert/strict';
import { kernelMatrix } from './kernel-matrix';

function section(output: string, name: string): string[] {
  const start = output.indexOf(`=== ${name}\n`);
  assert.ok(start >= 0, `no section ${name} in VM output:\n${output.slice(-3000)}`);
  const rest = output.slice(start + name.length + 5);
  const end = rest.indexOf('\n=== ');
  return (end < 0 ? rest : rest.slice(0, end)).split('\n').filter((l) => l.length > 0);
}

function exitOf(lines: string[]): number {
  const m = lines.map((l) => /^rc=(\d+)$/.exec(l)).find(Boolean);
  assert.ok(m, `no rc= line in:\n${lines.join('\n')}`);
  return Number(m[1]);
}

function jsonLines(lines: string[]): Record<string, unknown>[] {
  return lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const summaryOf = (lines: string[]) => {
  const s = jsonLines(lines)
    .filter((o) => o.type === 'summary')
    .pop();
  assert.ok(s, `no summary line in:\n${lines.join('\n')}`);
  return s;
};

const W = 'node bin/iommuscope.js watch --source vevent';
const TOO_OLD =
  /too old for vEVENTQs: IOMMU_VIOMMU_ALLOC is not an iommufd ioctl here \(ENOTTY\); vIOMMU came in Linux 6\.13 and vEVENTQ \(IOMMU_VEVENTQ_ALLOC\) in Linux 6\.15.*Fix: run Linux 6\.15 or later/;

kernelMatrix(
  'watch --source vevent on the selftest mock: order, loss, record, SIGINT (-i none)',
  (k) => {
    const script = [
      `echo "=== order"; ${W} --virt-id 0x99 --inject count=200 --json 2>/tmp/o.err > /tmp/o.ndjson; echo "rc=$?"; cat /tmp/o.ndjson /tmp/o.err`,
      `echo "=== overfill"; ${W} --depth 8 --inject count=20,prefill=12 --json 2>&1; echo "rc=$?"`,
      `echo "=== text"; ${W} --inject count=3 2>&1; echo "rc=$?"`,
      `echo "=== record"; ${W} --inject count=10 --record /tmp/v.pcapng.gz --json > /dev/null 2>&1; echo "rc=$?"; node bin/iommuscope.js export /tmp/v.pcapng.gz --format ndjson --table events 2>&1 | grep -c '"type":"vevent"'`,
      `echo "=== sigint"; ${W} --inject count=10000000,rate=200 --json > /tmp/s.ndjson 2>&1 & p=$!; sleep 4; kill -INT $p; wait $p; echo "rc=$?"; tail -1 /tmp/s.ndjson`,
      `echo "=== rate"; ${W} --depth 524288 --inject count=20000 --json 2>&1 | tail -1; echo "rc=$?"`,
    ].join('; ');
    const r = k.run('none', ['sh', '-c', script]);
    const order = section(r.output, 'order');
    if (k.kernel === '6.12') {
      // step: 6.12 has no vIOMMU: every run fails at VIOMMU_ALLOC, naming the versions
      for (const name of ['order', 'overfill', 'text']) {
        const lines = section(r.output, name);
        assert.equal(exitOf(lines), 1, `${name}: a kernel call failed`);
        assert.match(lines.join('\n'), TOO_OLD);
        assert.equal(summaryOf(lines).clean, false);
      }
      return;
    }
    // step: 200 vEVENTs, sequences 0..199 in order, virt id 0x99 (153) in the selftest data
    assert.equal(exitOf(order), 0, order.slice(-5).join('\n'));
    const events = jsonLines(order).filter((o) => o.type === 'vevent');
    assert.equal(events.length, 200);
    assert.deepEqual(
      events.map((e) => e.sequence),
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.ok(events.every((e) => e.virtId === '153' && e.data === '99000000'));
    assert.deepEqual(events[0]!.decoded, { kind: 'selftest', summary: 'selftest virt id 0x99' });
    assert.equal(typeof events[0]!.queue, 'number');
    assert.equal(
      jsonLines(order).filter((o) => o.type === 'vevent-lost').length,
      0,
      'nothing lost',
    );
    const os = summaryOf(order);
    assert.equal(os.events, 200);
    assert.equal(os.lost, 0);
    assert.equal(os.injected, 200);
    assert.equal(os.clean, true);

    // step: depth 8, a burst of 12 before reading: 0..7, LOST (4 after 7), then 12..19
    const over = section(r.output, 'overfill');
    assert.equal(exitOf(over), 0);
    const lines = jsonLines(over).filter((o) => o.type === 'vevent' || o.type === 'vevent-lost');
    assert.deepEqual(
      lines.map((o) =>
        o.type === 'vevent' ? o.sequence : `lost ${String(o.lost)} after ${String(o.after)}`,
      ),
      [0, 1, 2, 3, 4, 5, 6, 7, 'lost 4 after 7', 12, 13, 14, 15, 16, 17, 18, 19],
    );
    assert.equal(lines[8]!.marker, true, 'the kernel said so with IOMMU_VEVENTQ_FLAG_LOST_EVENTS');
    const ovs = summaryOf(over);
    assert.equal(ovs.events, 16);
    assert.equal(ovs.lost, 4);
    assert.equal(ovs.lostMarkers, 1);

    // step: text lines, one per vEVENT
    const text = section(r.output, 'text');
    assert.equal(exitOf(text), 0);
    const tl = text.filter((l) =>
      / vevent q \d+ seq \d+ virt 1 selftest virt id 0x1 \[01000000\]$/.test(l),
    );
    assert.equal(tl.length, 3, text.join('\n'));

    // step: --record writes a vevent frame per event; export reads them back
    const rec = section(r.output, 'record');
    assert.equal(exitOf(rec), 0);
    assert.ok(rec.includes('10'), `10 vevent rows exported:\n${rec.join('\n')}`);

    // step: SIGINT mid-run: the summary says so, the exit is clean
    const sig = section(r.output, 'sigint');
    assert.equal(exitOf(sig), 0, sig.join('\n'));
    const ss = summaryOf(sig);
    assert.equal(ss.stopReason, 'SIGINT');
    assert.equal(ss.clean, true);
    assert.ok(Number(ss.events) > 0);

    // figure: read rate with TRIGGER_VEVENT as fast as the main thread can call it
    const rate = summaryOf(section(r.output, 'rate'));
    assert.equal(rate.events, 20000);
    assert.equal(rate.lost, 0, 'a 524288-deep queue loses nothing');
    console.log(
      `  [${k.kernel}] 20000 vEVENTs: ${String(rate.eventsPerSec)} events/s over ${String(rate.durationMs)} ms (TCG guest, set-up included)`,
    );
  },
);

kernelMatrix(
  'watch --source vevent --device edu behind VT-d: the kernel refuses, named (-i vtd)',
  (k) => {
    const script = [
      'echo 1234 11e8 > /sys/bus/pci/drivers/vfio-pci/new_id',
      'i=0; while [ ! -e /dev/vfio/devices/vfio0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
      `echo "=== device"; ${W} --device /dev/vfio/devices/vfio0 --verbose 2>&1; echo "rc=$?"`,
    ].join('; ');
    const r = k.run('vtd', ['sh', '-c', script]);
    const dev = section(r.output, 'device');
    const text = dev.join('\n');
    console.log(text);
    assert.equal(exitOf(dev), 1);
    assert.match(text, /VFIO_DEVICE_BIND_IOMMUFD: \d+/, 'bind works');
    assert.match(text, /Intel VT-d \(IOMMU_GET_HW_INFO type 1\)/);
    assert.match(text, /Fix: /);
    assert.equal(summaryOf(dev).clean, false);
  },
);
