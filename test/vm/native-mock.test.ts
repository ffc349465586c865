// The native addon against the real 6.12 kernel in the test VM: the
// selftest mock fault queue (-i none) and VFIO + emulated VT-d (-i vtd).
// The guest scripts (test/vm-guest/native-*.ts) run the steps; here we check
// their exit status and the kernel facts they recorded.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { addonPath } from '../../main/node/native/load';
import { repoRoot, runInVm, vmSkipReason } from './vm';

function runGuest(iommu: 'none' | 'vtd', script: string): Record<string, unknown> {
  const guest = path.join(repoRoot, 'dist', 'test', 'vm-guest', script);
  assert.ok(existsSync(guest), `${guest} missing: run npx tsc -p tsconfig.json`);
  assert.ok(existsSync(addonPath()), `${addonPath()} missing: run node scripts/build-native.mjs`);
  const r = runInVm(iommu, ['node', path.relative(repoRoot, guest)]);
  assert.equal(r.status, 0, `guest ${script} failed (exit ${r.status}):\n${r.output}`);
  const line = r.output.split('\n').find((l) => l.startsWith('FACTS '));
  assert.ok(line, `no FACTS line in:\n${r.output}`);
  return JSON.parse(line.slice('FACTS '.length)) as Record<string, unknown>;
}

test('mock fault queue: raw kernel rules and the native queue (-i none)', (t) => {
  const skip = vmSkipReason();
  if (skip) return t.skip(skip);
  const f = runGuest('none', 'native-mock.js');
  assert.equal(f.readOddSize, 'ESPIPE');
  assert.equal(f.writeOddSize, 'ESPIPE');
  assert.equal(f.writeBadCode, 'EINVAL');
  assert.equal(f.writeUnknownCookie, 'EINVAL');
  assert.equal(f.partialWriteBytes, 8, 'a batch is accepted up to the bad cookie');
  assert.equal(f.kernelRefusedCookie, 'EINVAL');
  assert.deepEqual(f.respondAfterDetach, ['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL']);
  assert.equal(
    f.nativeCookieReused,
    true,
    'the kernel gave the answered group’s cookie to the next',
  );
  assert.equal(f.staleAnswer, 'ESTALE', 'answering the old group again writes nothing');
  const totals = f.totals as {
    faults: number;
    answered: number;
    byUser: number;
    byPolicy: number;
    byDrain: number;
    byKernel: number;
    pending: number;
    malformed: number;
  };
  assert.equal(totals.malformed, 0);
  assert.equal(totals.pending, 0);
  assert.equal(totals.answered, totals.faults);
  assert.equal(totals.answered, totals.byUser + totals.byPolicy + totals.byDrain + totals.byKernel);
  assert.ok(totals.byKernel > 0, 'the domain replace was recorded as answered by the kernel');
});

test('VFIO cdev + VT-d: bind, attach, no-PRI IOPF and PASID attach errors (-i vtd)', (t) => {
  const skip = vmSkipReason();
  if (skip) return t.skip(skip);
  const f = runGuest('vtd', 'native-vtd.js');
  assert.equal((f.hwInfo as { dataType: number }).dataType, 1);
  assert.ok(Number(f.attachedPt) > 0);
  assert.equal(f.iopfHwptAlloc, 'EOPNOTSUPP', 'no PRI: IOPF-capable HWPT refused');
  assert.equal(f.pasidAttach, 'EINVAL');
  assert.equal(f.testCmdAvailable, true);
});
