// The native addon against each real kernel in the test VM: the selftest
// mock fault queue (-i none) and VFIO + emulated VT-d (-i vtd).
// The guest scripts (test/vm-guest/native-*.ts) run the steps; here we check
// their exit status and the kernel facts they recorded.
import assert from 'node:assert/strict';
import { kernelMatrix, runGuest } from './kernel-matrix';

kernelMatrix('mock fault queue: raw kernel rules and the native queue (-i none)', (k) => {
  const f = runGuest(k, 'none', 'native-mock.js');
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

kernelMatrix(
  'VFIO cdev + VT-d: bind, attach, no-PRI IOPF and PASID attach errors (-i vtd)',
  (k) => {
    const f = runGuest(k, 'vtd', 'native-vtd.js');
    const hw = f.hwInfo as { dataType: number; dataLen: number; capabilities: string };
    assert.equal(hw.dataType, 1, 'IOMMU_HW_INFO_TYPE_INTEL_VTD');
    assert.equal(hw.dataLen, 24, 'struct iommu_hw_info_vtd');
    assert.ok(Number(f.attachedPt) > 0);
    assert.equal(f.pasidAttach, 'EINVAL');
    assert.equal(f.testCmdAvailable, true);
    if (k.kernel === '6.12') {
      // 6.12 refuses IOPF when the HWPT is allocated, and knows no PASID or input-type flags.
      assert.equal(f.iopfHwptAlloc, 'EOPNOTSUPP', 'no PRI: IOPF-capable HWPT refused');
      assert.equal(f.iopfAttach, undefined);
      assert.equal(f.pasidDetach, 'EINVAL', 'no VFIO_DEVICE_DETACH_PASID flag');
      assert.equal(hw.capabilities, '0');
      assert.equal(f.hwInfoInputVtd, 'EOPNOTSUPP');
    } else {
      // 7.3 allocates the IOPF HWPT and refuses it at attach; PASID detach exists.
      assert.equal(f.iopfHwptAlloc, 'OK');
      assert.equal(f.iopfAttach, 'ENODEV', 'no PRI: the IOPF-capable attach is refused');
      assert.equal(f.pasidDetach, 'OK', 'VFIO_DEVICE_DETACH_PASID of an unattached PASID');
      assert.equal(hw.capabilities, '8', 'IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED');
      assert.equal(f.hwInfoInputVtd, 'OK');
      assert.equal(f.hwInfoInputSmmu, 'EOPNOTSUPP');
    }
  },
);
