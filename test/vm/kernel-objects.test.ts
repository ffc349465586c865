// The newer iommufd objects on each kernel's selftest mock device (-i none):
// fault queues behind a PASID attachment, and the vIOMMU / vDEVICE / vEVENTQ
// / HW queue chain. The guest (test/vm-guest/native-kernel-objects.ts) probes
// support and records errnos; here each kernel's facts are asserted: 7.3 has
// all of it, 6.12 refuses each call with its own errno.
import assert from 'node:assert/strict';
import { kernelMatrix, runGuest } from './kernel-matrix';

interface Vevent {
  flags: number;
  sequence: number;
  virtId?: number;
}

kernelMatrix('PASID fault queues, vIOMMU/vDEVICE/vEVENTQ/HW queue on the mock (-i none)', (k) => {
  const f = runGuest(k, 'none', 'native-kernel-objects.js');
  assert.ok(String(f.kernel).startsWith(`${k.kernel}.`));
  if (k.kernel === '6.12') {
    // step: 6.12 has none of it, and says so with these errnos
    assert.equal(f.pasidOpsSupported, false, 'probe: PASID_ATTACH unknown to the selftest');
    assert.equal(f.oldPasidAttach, 'EOPNOTSUPP');
    assert.equal(f.oldMockPasidFlag, 'EINVAL', 'MOCK_FLAGS_DEVICE_PASID unknown');
    assert.equal(f.oldHwptPasidFlag, 'EOPNOTSUPP', 'IOMMU_HWPT_ALLOC_PASID unknown');
    assert.equal(f.veventOpSupported, false);
    assert.equal(f.viommuAlloc, 'ENOTTY', 'IOMMU_VIOMMU_ALLOC is not an iommufd ioctl in 6.12');
    assert.equal(f.oldVdevice, 'ENOTTY');
    assert.equal(f.oldVeventq, 'ENOTTY');
    assert.equal(f.oldHwQueue, 'ENOTTY');
    assert.equal(f.oldTriggerVevent, 'EOPNOTSUPP');
    return;
  }
  // PASID: attach PASID 5, trigger with pasid 5, read it with PASID_VALID, answer, detach
  assert.equal(f.pasidOpsSupported, true);
  assert.deepEqual(f.mockPasidHwInfo, { dataType: 0xfeedbeef, maxPasidLog2: 20 });
  const rec = f.pasidRecord as { flags: number; pasid: number; grpid: number };
  assert.equal(rec.flags, 3, 'PASID_VALID | LAST_PAGE');
  assert.equal(rec.pasid, 5);
  assert.equal(f.pasidAttachRidNotCompat, 'EINVAL');
  assert.equal(f.pasidAttachTwice, 'EBUSY');
  assert.equal(f.pasidAttachNonPasidHwpt, 'EINVAL');
  assert.equal(f.pasidAttachNoPasidDevice, 'EINVAL');
  // negative: a PASID that is not attached: TRIGGER_IOPF succeeds, nothing is queued
  assert.equal(f.triggerUnattached, 'OK');
  assert.equal(f.unattachedReadBytes, 0);
  assert.equal(f.afterDetachReadBytes, 0);
  assert.equal(f.detachTwice, 'OK', 'detaching a detached PASID is not an error');

  // vIOMMU chain
  assert.equal(f.viommuAlloc, 'OK');
  assert.equal(f.viommuOutData, 0xbeef);
  assert.equal(f.viommuBadType, 'EOPNOTSUPP');
  assert.equal(f.viommuNotParent, 'EINVAL');
  assert.equal(f.veventqDepth0, 'EINVAL');
  assert.equal(f.veventqTwice, 'EEXIST');
  assert.equal(f.attachNestedNoVdevice, 'ENOENT');
  assert.equal(f.vdeviceTwice, 'EEXIST');
  assert.equal(f.veventEmptyRead, 0);
  assert.equal(f.veventRead0, 'EINVAL');
  assert.equal(f.veventRead7, 'EINVAL');
  assert.equal(f.veventHeaderOnlyRead, 'EINVAL', 'a header without room for its data');
  // 3 events: {flags 0, sequence n..n+2} + u32 virt id, 12 bytes each, in order
  const three = f.veventThree as Vevent[];
  assert.deepEqual(
    three.map((e) => [e.flags, e.sequence - three[0]!.sequence, e.virtId]),
    [
      [0, 0, 0x99],
      [0, 1, 0x99],
      [0, 2, 0x99],
    ],
  );
  // overfill depth 8 with 12: 8 events, then a LOST_EVENTS header (no data) at the tail
  const over = f.veventOverfill as Vevent[];
  const first = three[2]!.sequence + 1;
  assert.deepEqual(
    over.slice(0, 8).map((e) => e.sequence),
    Array.from({ length: 8 }, (_, i) => first + i),
  );
  assert.equal(over.length, 9);
  assert.equal(over[8]!.flags, 1, 'IOMMU_VEVENTQ_FLAG_LOST_EVENTS');
  assert.equal(over[8]!.virtId, undefined);
  assert.equal(over[8]!.sequence, first + 11, 'the marker carries the last lost sequence');
  const after = f.veventAfterLoss as Vevent[];
  assert.equal(after[0]!.sequence, first + 12, 'numbering goes on after the loss');
  // HW queue
  assert.equal(f.hwQueueDefaultType, 'EOPNOTSUPP');
  assert.equal(f.hwQueueUnmapped, 'ENOENT');
  assert.equal(f.hwQueueIndex1First, 'EIO', 'index 0 must come first');
  assert.equal(f.hwQueueDestroyOrder, 'EBUSY', 'destroy in descending index order');
});
