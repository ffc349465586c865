// The fault pipeline against each real kernel. Two boots per kernel:
//  -i none: the shared fault-source cases on the selftest mock device, then
//           `watch --source mock --inject count=1000 --policy success --json`,
//           and `watch --source mock --pasid 5-7` (fault queues behind PASIDs
//           where the kernel has PASID attach, the too-old error where not);
//  -i vtd:  edu bound to vfio-pci: bind + IOAS + plain attach work, the
//           IOPF-capable attach fails with the no-PRI error (6.12 at HWPT_ALLOC,
//           7.3 at the attach), --pasid 1 fails with the kernel-too-old error
//           (6.12) or the device-has-no-PASID error (7.3).
import assert from 'node:assert/strict';
import { kernelMatrix } from './kernel-matrix';

/** Lines of the guest output between `=== name` markers. */
function section(output: string, name: string): string[] {
  const start = output.indexOf(`=== ${name}\n`);
  assert.ok(start >= 0, `no section ${name} in VM output:\n${output.slice(-3000)}`);
  const rest = output.slice(start + name.length + 5);
  const end = rest.indexOf('\n=== ');
  return (end < 0 ? rest : rest.slice(0, end)).split('\n').filter((l) => l.length > 0);
}

function summaryOf(lines: string[]): Record<string, unknown> {
  const last = lines.filter((l) => l.startsWith('{"type":"summary"')).pop();
  assert.ok(last, `no summary line in:\n${lines.join('\n')}`);
  return JSON.parse(last) as Record<string, unknown>;
}

function exitOf(lines: string[]): number {
  const m = lines.map((l) => /^rc=(\d+)$/.exec(l)).find(Boolean);
  assert.ok(m, `no rc= line in:\n${lines.join('\n')}`);
  return Number(m[1]);
}

kernelMatrix('fault pipeline on the mock: shared cases, watch, watch --pasid (-i none)', (k) => {
  const script = [
    'echo "=== cases"; node dist/test/vm-guest/run-fault-source-cases.js; echo "rc=$?"',
    'echo "=== watch"; node bin/iommuscope.js watch --source mock --inject count=1000 --policy success --json > /tmp/w.ndjson; echo "rc=$?"; grep -c \'"type":"fault"\' /tmp/w.ndjson; grep -c \'"type":"response"\' /tmp/w.ndjson; tail -1 /tmp/w.ndjson',
    'echo "=== hold"; node bin/iommuscope.js watch --source mock --inject count=20,pasids=1-4,perm=rw --policy hold --drain-code success --json | tail -1; echo "rc=$?"',
    'echo "=== pasid"; node bin/iommuscope.js watch --source mock --pasid 5-7 --inject count=30,perm=rw --policy success --json --verbose > /tmp/p.ndjson 2>/tmp/p.err; echo "rc=$?"; cat /tmp/p.err; grep \'"type":"fault"\' /tmp/p.ndjson | head -3; tail -1 /tmp/p.ndjson',
    'echo "=== pasid-outside"; node bin/iommuscope.js watch --source mock --pasid 5 --inject count=3,pasids=9 --policy success 2>&1; echo "rc=$?"',
  ].join('; ');
  const r = k.run('none', ['sh', '-c', script]);

  const cases = section(r.output, 'cases');
  const caseLines = cases.filter((l) => l.startsWith('CASE '));
  assert.ok(caseLines.length >= 9, `expected every case to report:\n${cases.join('\n')}`);
  const failed = caseLines.filter((l) => l.startsWith('CASE fail'));
  assert.deepEqual(failed, [], 'every shared case passes on the kernel mock device');
  for (const l of caseLines.filter((x) => x.startsWith('CASE skip'))) console.log(`  (${l})`);
  assert.equal(exitOf(cases), 0);

  const watch = section(r.output, 'watch');
  assert.equal(exitOf(watch), 0, 'clean run exits 0');
  const [faultLines, responseLines] = watch.filter((l) => /^\d+$/.test(l)).map(Number);
  assert.equal(faultLines, 1000, 'one fault event per page request');
  assert.equal(responseLines, 1000, 'one response event per group');
  const s = summaryOf(watch);
  assert.equal(s.faults, 1000);
  assert.equal(s.groups, 1000);
  assert.equal(s.answered, 1000);
  assert.equal(s.success, 1000);
  assert.equal(s.pending, 0);
  assert.equal(s.errors, 0);
  assert.equal(s.clean, true);

  const hold = section(r.output, 'hold');
  const h = summaryOf(hold);
  assert.equal(exitOf(hold), 0, 'held groups answered by the drain is a clean run');
  assert.equal(h.faults, 20);
  assert.equal(h.success, 20, '--drain-code success');
  assert.deepEqual(h.answeredBy, { user: 0, policy: 0, drain: 20, kernel: 0 });

  const pasid = section(r.output, 'pasid');
  const outside = section(r.output, 'pasid-outside').join('\n');
  if (k.kernel === '6.12') {
    // step: 6.12's selftest has no PASID_ATTACH: the clear too-old error, exit 1
    assert.equal(exitOf(pasid), 1);
    assert.match(pasid.join('\n'), /kernel is too old for PASID attach .*Linux 6\.15.*Fix: /);
    assert.match(outside, /kernel is too old/);
    return;
  }
  // step: PASIDs 5-7 attached to the IOPF HWPT; 30 requests arrive with PASID_VALID, answered
  const text = pasid.join('\n');
  assert.equal(exitOf(pasid), 0, text);
  assert.match(text, /MOCK_DOMAIN_FLAGS\(PASID\)/);
  for (const p of [5, 6, 7]) assert.match(text, new RegExp(`PASID_ATTACH ${p} to IOPF HWPT \\d+`));
  const faults = pasid
    .filter((l) => l.startsWith('{"type":"fault"'))
    .map((l) => JSON.parse(l) as { pasid: number | null; flags: string[] });
  assert.ok(faults.length >= 3, text);
  assert.deepEqual(
    faults.map((f) => f.pasid),
    [5, 6, 7],
    'round-robin over the attached PASIDs',
  );
  assert.ok(faults.every((f) => f.flags.includes('PASID_VALID')));
  const ps = summaryOf(pasid);
  assert.equal(ps.faults, 30);
  assert.equal(ps.success, 30);
  assert.equal(ps.pending, 0);
  assert.equal(ps.clean, true);
  // negative: injecting for a PASID that is not attached is refused before the kernel drops it
  assert.match(outside, /PASID 9 has no IOPF-capable domain/);
  assert.match(outside, /rc=1/);
});

kernelMatrix('edu via vfio-pci: attach works, IOPF and PASID attach fail clearly (-i vtd)', (k) => {
  const script = [
    'echo 1234 11e8 > /sys/bus/pci/drivers/vfio-pci/new_id',
    'i=0; while [ ! -e /dev/vfio/devices/vfio0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    'echo "=== iopf"; node bin/iommuscope.js watch --source iommufd --device /dev/vfio/devices/vfio0 --verbose 2>&1; echo "rc=$?"',
    'echo "=== pasid"; node bin/iommuscope.js watch --source iommufd --device /dev/vfio/devices/vfio0 --pasid 1 --verbose 2>&1; echo "rc=$?"',
    'echo "=== nodev"; node bin/iommuscope.js watch --source iommufd --device /dev/vfio/devices/vfio9 2>&1; echo "rc=$?"',
  ].join('; ');
  const r = k.run('vtd', ['sh', '-c', script]);

  const iopf = section(r.output, 'iopf').join('\n');
  assert.match(iopf, /VFIO_DEVICE_BIND_IOMMUFD: \d+/, 'bind works');
  assert.match(iopf, /IOAS_ALLOC: \d+/);
  assert.match(iopf, /attach \/dev\/vfio\/devices\/vfio0 to IOAS \d+: \d+/, 'plain attach works');
  assert.match(iopf, /has no PRI, or its IOMMU cannot do IOPF/);
  assert.match(iopf, /Fix: /);
  assert.equal(exitOf(section(r.output, 'iopf')), 1);
  if (k.kernel === '6.12') {
    // 6.12 refuses at HWPT_ALLOC (EOPNOTSUPP): no HWPT id is logged
    assert.match(iopf, /EOPNOTSUPP/);
    assert.doesNotMatch(iopf, /HWPT_ALLOC IOPF-capable: \d+/);
  } else {
    // 7.3 allocates the HWPT and refuses the attach (ENODEV): the same error, one step later
    assert.match(iopf, /HWPT_ALLOC IOPF-capable: \d+/);
    assert.match(iopf, /ENODEV/);
  }

  const pasid = section(r.output, 'pasid').join('\n');
  assert.equal(exitOf(section(r.output, 'pasid')), 1);
  if (k.kernel === '6.12') {
    assert.match(pasid, /kernel is too old for PASID attach of VFIO devices .*Linux 6\.15/);
  } else {
    assert.match(pasid, /probe VFIO_DEVICE_DETACH_PASID 1: ok/);
    assert.match(pasid, /has no PASID capability, or its IOMMU does not do PASID/);
    assert.match(pasid, /out_max_pasid_log2 = 0/);
  }

  const nodev = section(r.output, 'nodev').join('\n');
  assert.match(
    nodev,
    /VFIO device cdev \/dev\/vfio\/devices\/vfio9 does not exist.*Fix: bind the device to vfio-pci/,
  );
});
