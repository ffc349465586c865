// `watch --source vevent` against each real kernel. Two boots per kernel:
//  -i none: the selftest mock's vIOMMU/vDEVICE/vEVENTQ/HW queue: 2000 vEVENTs
//           read in order with their sequence numbers and virt id (NDJSON,
//           recorded, with a read-rate figure); a depth-8 queue overfilled by
//           a 12-event burst before the reader starts shows one LOST_EVENTS
//           line (4 lost after sequence 7) and the reading resumes at 12
//           (text lines); SIGINT mid-run ends cleanly with the summary. On
//           6.12 every run fails with the too-old error (VIOMMU_ALLOC ENOTTY).
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

kernelMatrix('watch --source vevent on the selftest mock: order, loss, SIGINT (-i none)', (k) => {
  // Three runs only: under TCG on a loaded host each node start can take minutes.
  const script = [
    `echo "=== order"; ${W} --virt-id 0x99 --inject count=2000 --json --verbose --record /tmp/v.pcapng.gz 2>/tmp/o.err > /tmp/o.ndjson; echo "rc=$?"; cat /tmp/o.ndjson /tmp/o.err`,
    `echo "=== overfill"; ${W} --depth 8 --inject count=20,prefill=12 2>&1; echo "rc=$?"`,
    `echo "=== sigint"; ${W} --inject count=10000000,rate=200 --json > /tmp/s.ndjson 2>&1 & p=$!; i=0; while kill -0 $p 2>/dev/null && ! grep -q '"type":"vevent"' /tmp/s.ndjson && [ $i -lt 1200 ]; do sleep 0.25; i=$((i+1)); done; sleep 1; kill -INT $p 2>/dev/null; wait $p; echo "rc=$?"; tail -1 /tmp/s.ndjson`,
  ].join('; ');
  const r = k.run('none', ['sh', '-c', script]);
  const order = section(r.output, 'order');
  if (k.kernel === '6.12') {
    // step: 6.12 has no vIOMMU: every run fails at VIOMMU_ALLOC, naming the versions
    for (const name of ['order', 'overfill']) {
      const lines = section(r.output, name);
      assert.equal(exitOf(lines), 1, `${name}: a kernel call failed`);
      assert.match(lines.join('\n'), TOO_OLD);
      assert.equal(summaryOf(lines).clean, false);
    }
    // step: the SIGINT run fails the same way at once (the wait loop ends with the process)
    assert.equal(exitOf(section(r.output, 'sigint')), 1);
    return;
  }
  // step: 2000 vEVENTs, sequences 0..1999 in order, virt id 0x99 (153) in the selftest data
  assert.equal(exitOf(order), 0, order.slice(-5).join('\n'));
  const events = jsonLines(order).filter((o) => o.type === 'vevent');
  assert.equal(events.length, 2000);
  assert.deepEqual(
    events.map((e) => e.sequence),
    Array.from({ length: 2000 }, (_, i) => i),
  );
  assert.ok(events.every((e) => e.virtId === '153' && e.data === '99000000'));
  assert.deepEqual(events[0]!.decoded, { kind: 'selftest', summary: 'selftest virt id 0x99' });
  assert.equal(typeof events[0]!.queue, 'number');
  assert.equal(jsonLines(order).filter((o) => o.type === 'vevent-lost').length, 0);
  const os = summaryOf(order);
  assert.equal(os.events, 2000);
  assert.equal(os.lost, 0);
  assert.equal(os.injected, 2000);
  assert.equal(os.clean, true);
  assert.equal(os.recordError, undefined, '--record wrote the whole run');
  const verbose = order.join('\n');
  assert.match(verbose, /VEVENTQ_ALLOC depth 1024: /);
  assert.match(verbose, /VDEVICE_ALLOC virt id 0x99: \d+/);
  // the selftest HW queue on one mapped page completes the vIOMMU's objects (7.3 has them)
  assert.match(verbose, /HW_QUEUE_ALLOC index 0 at 0x1000000: \d+/);
  console.log(
    `  [${k.kernel}] 2000 vEVENTs: ${String(os.eventsPerSec)} events/s over ${String(os.durationMs)} ms (TCG guest, set-up included)`,
  );

  // step: depth 8, a burst of 12 before reading: 0..7, LOST (4 after 7), then 12..19 (text)
  const over = section(r.output, 'overfill');
  assert.equal(exitOf(over), 0);
  const line =
    / vevent q \d+ (?:seq (\d+) virt 1 selftest virt id 0x1 \[01000000\]|LOST 4 after seq 7 \(LOST_EVENTS\))$/;
  const seqs = over
    .map((l) => line.exec(l))
    .filter((m) => m !== null)
    .map((m) => (m[1] !== undefined ? Number(m[1]) : 'lost'));
  assert.deepEqual(
    seqs,
    [0, 1, 2, 3, 4, 5, 6, 7, 'lost', 12, 13, 14, 15, 16, 17, 18, 19],
    over.join('\n'),
  );
  const ovs = summaryOf(over);
  assert.equal(ovs.events, 16);
  assert.equal(ovs.lost, 4);
  assert.equal(ovs.lostMarkers, 1);
  assert.equal(ovs.clean, true, 'lost vEVENTs are reported, not a failure');

  // step: SIGINT mid-run: the summary says so, the exit is clean
  const sig = section(r.output, 'sigint');
  assert.equal(exitOf(sig), 0, sig.join('\n'));
  const ss = summaryOf(sig);
  assert.equal(ss.stopReason, 'SIGINT');
  assert.equal(ss.clean, true);
  assert.ok(Number(ss.events) > 0);
});

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
    // both kernels: QEMU's VT-d does no nesting, so the first vIOMMU step is refused
    assert.match(
      text,
      /refused a nest-parent HWPT \(HWPT_ALLOC with NEST_PARENT, EOPNOTSUPP\): it does no nested translation/,
    );
    assert.match(text, /Fix: /);
    assert.equal(summaryOf(dev).clean, false);
  },
);
