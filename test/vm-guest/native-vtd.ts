// Guest side of the VT-d part of test/vm/native-mock.test.ts: the edu PCI
// device on vfio-pci through its VFIO cdev, bound to an iommufd and attached
// to an IOAS; asking for IOPF (the device has no PRI) and for a PASID attach
// must fail, and the errnos are recorded for the core to map. Where they
// fail differs by kernel (6.12: HWPT_ALLOC refuses IOPF, no PASID flag;
// 7.3: the attach refuses IOPF, the PASID flag exists but edu has no PASID):
// the host test asserts each kernel's facts.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { addon, facts, finish, step, waitFor } from './guest-steps';

const FAULT_ID_VALID = 4;

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'NO_CODE';
  }
}

async function main() {
  const a = addon();
  let fd = -1;
  let dfd = -1;
  let devId = 0;
  let ioas = 0;
  await step('bind the edu device (1234:11e8) to vfio-pci', async () => {
    if (!existsSync('/dev/vfio/devices/vfio0')) {
      writeFileSync('/sys/bus/pci/drivers/vfio-pci/new_id', '1234 11e8');
    }
    await waitFor('/dev/vfio/devices/vfio0', () => existsSync('/dev/vfio/devices/vfio0'));
    facts.vfioDevices = readdirSync('/dev/vfio/devices');
  });
  await step('open iommufd and the VFIO cdev; bind returns a device id', () => {
    fd = a.openIommufd('/dev/iommu');
    dfd = a.openVfioDevice('/dev/vfio/devices/vfio0');
    facts.attachBeforeBind = codeOf(() => a.vfioAttachPt(dfd, 1));
    devId = a.vfioBindIommufd(dfd, fd);
    facts.devId = devId;
    assert.ok(devId > 0);
    facts.bindTwice = codeOf(() => a.vfioBindIommufd(dfd, fd));
  });
  await step('GET_HW_INFO reports VT-d with cap/ecap', () => {
    const hw = a.getHwInfo(fd, devId);
    facts.hwInfo = {
      dataType: hw.dataType,
      maxPasidLog2: hw.maxPasidLog2,
      capabilities: hw.capabilities.toString(),
      dataBytes: hw.data.byteLength,
      dataLen: hw.dataLen,
      data: Buffer.from(hw.data).toString('hex'),
    };
    // 7.3's IOMMU_HW_INFO_FLAG_INPUT_TYPE: asking for VT-d works, asking for SMMUv3 does not.
    facts.hwInfoInputVtd = codeOf(() => a.getHwInfo(fd, devId, 1));
    facts.hwInfoInputSmmu = codeOf(() => a.getHwInfo(fd, devId, 2));
    assert.equal(hw.dataType, 1);
    assert.ok(hw.data.byteLength >= 24);
  });
  await step('IOAS alloc, IOVA ranges, attach the device to the IOAS', () => {
    ioas = a.ioasAlloc(fd);
    const r = a.ioasIovaRanges(fd, ioas);
    facts.iovaRanges = r.ranges.map((x) => [x.start.toString(16), x.last.toString(16)]);
    const pt = a.vfioAttachPt(dfd, ioas);
    facts.attachedPt = pt;
    assert.ok(pt > 0);
    const withDevice = a.ioasIovaRanges(fd, ioas);
    facts.iovaRangesAttached = withDevice.ranges.length;
    assert.ok(withDevice.ranges.length >= 1);
  });
  await step('map anonymous memory into the IOAS and unmap it', () => {
    const iova = a.ioasMapAnon(fd, ioas, 0x4000n, null, 6);
    assert.equal(a.ioasUnmap(fd, ioas, iova, 0x4000n), 0x4000n);
    facts.unmapAgain = codeOf(() => a.ioasUnmap(fd, ioas, iova, 0x4000n));
  });
  await step('an IOPF-capable HWPT for a device without PRI fails (errno recorded)', () => {
    const fq = a.faultQueueAlloc(fd);
    let hwpt = 0;
    facts.iopfHwptAlloc = codeOf(() => {
      hwpt = a.hwptAlloc(fd, { devId, ptId: ioas, flags: FAULT_ID_VALID, faultId: fq.faultId });
    });
    if (hwpt) facts.iopfAttach = codeOf(() => a.vfioAttachPt(dfd, hwpt));
    assert.ok(facts.iopfHwptAlloc !== 'OK' || (facts.iopfAttach ?? 'OK') !== 'OK');
    a.close(fq.faultFd);
  });
  await step('PASID attach of edu is EINVAL (6.12: no PASID flag; 7.3: no PASID)', () => {
    facts.pasidDetach = codeOf(() => a.vfioDetachPt(dfd, 1));
    facts.pasidAttach = codeOf(() => a.vfioAttachPt(dfd, ioas, 1));
    assert.equal(facts.pasidAttach, 'EINVAL');
  });
  await step('detach, then the selftest probe on this kernel', () => {
    a.vfioDetachPt(dfd);
    facts.testCmdAvailable = a.testCmdAvailable(fd);
    a.close(dfd);
    a.close(fd);
  });
  finish();
}

void main();
