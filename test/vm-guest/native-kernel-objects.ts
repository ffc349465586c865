// Guest side of test/vm/kernel-objects.test.ts (-i none): the newer kernel
// objects on the selftest mock device, through the addon's raw wrappers.
//  PASID:  a PASID-capable mock device, a fault queue behind PASID 5 of it
//          (the order of the kernel selftest's iommufd_device_pasid test);
//  vIOMMU: vIOMMU (selftest type) on a nest parent, vDEVICE with a virtual
//          id, vEVENTQ of depth 8 fed by TRIGGER_VEVENT, HW queues.
// Support is probed first; a kernel without it (6.12) must refuse every call
// with the errno recorded here, which the host test asserts per kernel.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import {
  HwptFlag,
  HWPT_DATA_SELFTEST,
  MockDeviceFlag,
  SelftestType,
  selftestHwptData,
  TestOp,
} from '../../main/node/sources/uapi-constants';
import { addon, errnoOf, facts, finish, step } from './guest-steps';

const APERTURE = 0x1000000n; // MOCK_APERTURE_START
const PERM_RW = 3;
const PASID_VALID = 1;
const LAST_PAGE = 2;
const VIRT_ID = 0x99n;
const EVENT_BYTES = 8 + 4; // struct iommufd_vevent_header + struct iommu_viommu_event_selftest

interface VeventRecord {
  flags: number;
  sequence: number;
  virtId?: number;
}

/** Split a vEVENTQ read into header (+ selftest data) records. */
function parseVevents(buf: ArrayBuffer): VeventRecord[] {
  const v = new DataView(buf);
  const out: VeventRecord[] = [];
  for (let off = 0; off + 8 <= buf.byteLength;) {
    const flags = v.getUint32(off, true);
    const sequence = v.getUint32(off + 4, true);
    off += 8;
    if (flags & 1) {
      out.push({ flags, sequence }); // LOST_EVENTS: a header with no data
      continue;
    }
    out.push({ flags, sequence, virtId: v.getUint32(off, true) });
    off += 4;
  }
  return out;
}

function pgfault(buf: Buffer) {
  return {
    flags: buf.readUInt32LE(0),
    devId: buf.readUInt32LE(4),
    pasid: buf.readUInt32LE(8),
    grpid: buf.readUInt32LE(12),
    perm: buf.readUInt32LE(16),
    addr: `0x${buf.readBigUInt64LE(24).toString(16)}`,
    cookie: buf.readUInt32LE(36),
  };
}

async function pasidSteps(): Promise<void> {
  const a = addon();
  const fd = a.openIommufd('/dev/iommu');
  facts.pasidOpsSupported = a.testOpSupported(fd, TestOp.PasidAttach);
  const ioas = a.ioasAlloc(fd);
  if (!facts.pasidOpsSupported) {
    await step('too old: PASID ops, the PASID mock flag and HWPT_ALLOC_PASID are refused', () => {
      const md = a.mockDomain(fd, ioas);
      facts.oldPasidAttach = errnoOf(() => a.mockPasidAttach(fd, md.stdevId, 5, md.hwptId));
      facts.oldMockPasidFlag = errnoOf(() => a.mockDomainFlags(fd, ioas, MockDeviceFlag.Pasid));
      facts.oldHwptPasidFlag = errnoOf(() =>
        a.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: HwptFlag.Pasid }),
      );
      assert.equal(facts.oldPasidAttach, 'EOPNOTSUPP');
    });
    a.close(fd);
    return;
  }
  const md = a.mockDomainFlags(fd, ioas, MockDeviceFlag.Pasid);
  let faultFd = -1;
  let iopf = 0;
  let s2 = 0;
  let parent = 0;
  await step(
    'PASID chain: nest parent, fault queue, IOPF HWPT and RID HWPT with the PASID flag',
    () => {
      const hw = a.getHwInfo(fd, md.idevId);
      facts.mockPasidHwInfo = { dataType: hw.dataType, maxPasidLog2: hw.maxPasidLog2 };
      parent = a.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: HwptFlag.NestParent });
      const fq = a.faultQueueAlloc(fd);
      faultFd = fq.faultFd;
      iopf = a.hwptAlloc(fd, {
        devId: md.idevId,
        ptId: parent,
        flags: HwptFlag.FaultIdValid | HwptFlag.Pasid,
        dataType: HWPT_DATA_SELFTEST,
        data: selftestHwptData(),
        faultId: fq.faultId,
      });
      s2 = a.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: HwptFlag.Pasid });
    },
  );
  await step('negative: PASID attach while the RID is on a non-PASID domain is EINVAL', () => {
    facts.pasidAttachRidNotCompat = errnoOf(() => a.mockPasidAttach(fd, md.stdevId, 5, iopf));
    assert.equal(facts.pasidAttachRidNotCompat, 'EINVAL');
  });
  await step('attach PASID 5 to the IOPF HWPT (RID on the PASID-compatible HWPT)', () => {
    a.mockDomainReplace(fd, md.stdevId, s2);
    assert.equal(a.mockPasidAttach(fd, md.stdevId, 5, iopf), iopf);
    assert.equal(a.mockPasidCheckHwpt(fd, md.stdevId, 5, iopf), true);
    assert.equal(a.mockPasidCheckHwpt(fd, md.stdevId, 6, 0), true, 'PASID 6 stays detached');
  });
  await step('negative: attaching PASID 5 again is EBUSY; a non-PASID HWPT is EINVAL', () => {
    facts.pasidAttachTwice = errnoOf(() => a.mockPasidAttach(fd, md.stdevId, 5, iopf));
    facts.pasidAttachNonPasidHwpt = errnoOf(() => a.mockPasidAttach(fd, md.stdevId, 7, parent));
    assert.equal(facts.pasidAttachTwice, 'EBUSY');
    assert.equal(facts.pasidAttachNonPasidHwpt, 'EINVAL');
  });
  let cookie = -1;
  await step('trigger IOPF with pasid 5; read it with PASID_VALID and pasid 5', () => {
    a.triggerIopf(fd, md.idevId, 5, 11, PERM_RW, APERTURE);
    assert.equal(a.pollIn(faultFd, 10_000), true, 'the fault FD became readable');
    const b = Buffer.alloc(80);
    assert.equal(fs.readSync(faultFd, b), 40);
    const r = pgfault(b);
    facts.pasidRecord = r;
    assert.equal(r.flags, PASID_VALID | LAST_PAGE);
    assert.equal(r.pasid, 5);
    assert.equal(r.devId, md.idevId);
    assert.equal(r.grpid, 11);
    cookie = r.cookie;
  });
  await step('answer it: one 8-byte response accepted', () => {
    const resp = Buffer.alloc(8);
    resp.writeUInt32LE(cookie, 0);
    assert.equal(fs.writeSync(faultFd, resp), 8);
  });
  await step(
    'negative: trigger for PASID 6 (not attached): the kernel result, nothing queued',
    () => {
      facts.triggerUnattached = errnoOf(() => a.triggerIopf(fd, md.idevId, 6, 12, 1, APERTURE));
      facts.unattachedReadable = a.pollIn(faultFd, 500);
      facts.unattachedReadBytes = fs.readSync(faultFd, Buffer.alloc(80));
      assert.equal(facts.unattachedReadBytes, 0);
    },
  );
  await step('detach PASID 5: the PASID has no domain; triggers no longer arrive', () => {
    a.mockPasidDetach(fd, md.stdevId, 5);
    assert.equal(a.mockPasidCheckHwpt(fd, md.stdevId, 5, 0), true);
    a.triggerIopf(fd, md.idevId, 5, 13, 1, APERTURE);
    facts.afterDetachReadBytes = fs.readSync(faultFd, Buffer.alloc(80));
    assert.equal(facts.afterDetachReadBytes, 0);
    facts.detachTwice = errnoOf(() => a.mockPasidDetach(fd, md.stdevId, 5));
  });
  await step('negative: PASID attach on a mock device without the PASID flag is EINVAL', () => {
    const plain = a.mockDomain(fd, ioas);
    facts.pasidAttachNoPasidDevice = errnoOf(() => a.mockPasidAttach(fd, plain.stdevId, 5, s2));
    assert.equal(facts.pasidAttachNoPasidDevice, 'EINVAL');
  });
  a.close(faultFd);
  a.close(fd);
}

async function viommuSteps(): Promise<void> {
  const a = addon();
  const fd = a.openIommufd('/dev/iommu');
  facts.veventOpSupported = a.testOpSupported(fd, TestOp.TriggerVevent);
  const ioas = a.ioasAlloc(fd);
  const md = a.mockDomain(fd, ioas);
  const parent = a.hwptAlloc(fd, { devId: md.idevId, ptId: ioas, flags: HwptFlag.NestParent });
  const alloc = () =>
    a.viommuAlloc(fd, { devId: md.idevId, hwptId: parent, type: SelftestType.viommu });
  facts.viommuAlloc = errnoOf(alloc);
  if (facts.viommuAlloc !== 'OK') {
    await step('too old: vIOMMU, vDEVICE, vEVENTQ, HW queue and TRIGGER_VEVENT are refused', () => {
      facts.oldVdevice = errnoOf(() => a.vdeviceAlloc(fd, 1, md.idevId, VIRT_ID));
      facts.oldVeventq = errnoOf(() => a.veventqAlloc(fd, 1, SelftestType.veventq, 8));
      facts.oldHwQueue = errnoOf(() =>
        a.hwQueueAlloc(fd, {
          viommuId: 1,
          type: SelftestType.hwQueue,
          index: 0,
          iova: APERTURE,
          length: 4096n,
        }),
      );
      facts.oldTriggerVevent = errnoOf(() => a.triggerVevent(fd, md.idevId));
      assert.equal(facts.viommuAlloc, 'ENOTTY');
    });
    a.close(fd);
    return;
  }
  let viommu = 0;
  let nested = 0;
  let q = { veventqId: 0, veventqFd: -1 };
  await step('vIOMMU (selftest type) on the nest parent; data in_data echoed to out_data', () => {
    const data = new ArrayBuffer(24);
    new DataView(data).setUint32(0, 0xbeef, true);
    const r = a.viommuAlloc(fd, {
      devId: md.idevId,
      hwptId: parent,
      type: SelftestType.viommu,
      data,
    });
    viommu = r.viommuId;
    facts.viommuOutData = new DataView(r.data).getUint32(4, true);
    assert.equal(facts.viommuOutData, 0xbeef);
    facts.viommuBadType = errnoOf(() =>
      a.viommuAlloc(fd, { devId: md.idevId, hwptId: parent, type: 0xdead }),
    );
    facts.viommuNotParent = errnoOf(() =>
      a.viommuAlloc(fd, { devId: md.idevId, hwptId: md.hwptId, type: SelftestType.viommu }),
    );
    assert.equal(facts.viommuBadType, 'EOPNOTSUPP');
    nested = a.hwptAlloc(fd, {
      devId: md.idevId,
      ptId: viommu,
      flags: 0,
      dataType: HWPT_DATA_SELFTEST,
      data: selftestHwptData(),
    });
  });
  await step('vEVENTQ: depth 0 is EINVAL, depth 8 gives an fd, a second of the type EEXIST', () => {
    facts.veventqDepth0 = errnoOf(() => a.veventqAlloc(fd, viommu, SelftestType.veventq, 0));
    q = a.veventqAlloc(fd, viommu, SelftestType.veventq, 8);
    facts.veventqTwice = errnoOf(() => a.veventqAlloc(fd, viommu, SelftestType.veventq, 8));
    assert.equal(facts.veventqDepth0, 'EINVAL');
    assert.equal(facts.veventqTwice, 'EEXIST');
    assert.ok(q.veventqFd > 0);
  });
  await step('negative: attaching the nested HWPT before a vDEVICE exists is ENOENT', () => {
    facts.attachNestedNoVdevice = errnoOf(() => a.mockDomainReplace(fd, md.stdevId, nested));
    assert.equal(facts.attachNestedNoVdevice, 'ENOENT');
  });
  let vdev = 0;
  await step('vDEVICE with virtual id 0x99 for the mock device; attach the nested HWPT', () => {
    vdev = a.vdeviceAlloc(fd, viommu, md.idevId, VIRT_ID);
    facts.vdeviceTwice = errnoOf(() => a.vdeviceAlloc(fd, viommu, md.idevId, VIRT_ID));
    assert.equal(facts.vdeviceTwice, 'EEXIST');
    a.mockDomainReplace(fd, md.stdevId, nested);
  });
  await step('read rules: empty queue reads 0; a read shorter than a header is EINVAL', () => {
    facts.veventEmptyRead = a.rawRead(q.veventqFd, 64).byteLength;
    facts.veventRead0 = errnoOf(() => a.rawRead(q.veventqFd, 0));
    facts.veventRead7 = errnoOf(() => a.rawRead(q.veventqFd, 7));
    assert.equal(facts.veventEmptyRead, 0);
  });
  await step('trigger 3 vEVENTs: headers in order (sequence n, n+1, n+2), virt id 0x99', () => {
    for (let i = 0; i < 3; i++) a.triggerVevent(fd, md.idevId);
    assert.equal(a.pollIn(q.veventqFd, 10_000), true);
    facts.veventHeaderOnlyRead = errnoOf(() => a.rawRead(q.veventqFd, 8));
    const buf = a.rawRead(q.veventqFd, 3 * EVENT_BYTES);
    facts.veventThreeHex = Buffer.from(buf).toString('hex');
    const recs = parseVevents(buf);
    facts.veventThree = recs;
    assert.equal(buf.byteLength, 3 * EVENT_BYTES);
    assert.deepEqual(
      recs.map((r) => r.flags),
      [0, 0, 0],
    );
    const s0 = recs[0]!.sequence;
    assert.deepEqual(
      recs.map((r) => r.sequence),
      [s0, s0 + 1, s0 + 2],
    );
    assert.ok(recs.every((r) => r.virtId === Number(VIRT_ID)));
  });
  await step('overfill the depth-8 queue with 12: 8 events then a LOST_EVENTS header', () => {
    for (let i = 0; i < 12; i++) a.triggerVevent(fd, md.idevId);
    const buf = a.rawRead(q.veventqFd, 4096);
    facts.veventOverfillHex = Buffer.from(buf).toString('hex');
    const recs = parseVevents(buf);
    facts.veventOverfill = recs;
    const data = recs.filter((r) => !(r.flags & 1));
    const lost = recs.filter((r) => r.flags & 1);
    assert.equal(data.length, 8, 'depth 8');
    assert.equal(lost.length, 1, 'one LOST_EVENTS marker');
    assert.equal(recs.at(-1)!.flags & 1, 1, 'the marker is last');
  });
  await step(
    'after the loss: the next event reads with a sequence gap from the last data event',
    () => {
      a.triggerVevent(fd, md.idevId);
      const recs = parseVevents(a.rawRead(q.veventqFd, 4096));
      facts.veventAfterLoss = recs;
      assert.equal(recs.length, 1);
      assert.equal(recs[0]!.flags, 0);
    },
  );
  await step(
    'HW queue: default type EOPNOTSUPP, unmapped IOVA ENOENT, index 0 then 1 on a mapped page',
    () => {
      const args = {
        viommuId: viommu,
        type: SelftestType.hwQueue,
        index: 0,
        iova: APERTURE,
        length: 4096n,
      };
      facts.hwQueueDefaultType = errnoOf(() => a.hwQueueAlloc(fd, { ...args, type: 0 }));
      facts.hwQueueUnmapped = errnoOf(() => a.hwQueueAlloc(fd, args));
      a.ioasMapAnon(fd, ioas, 0x2000n, APERTURE, 6);
      facts.hwQueueIndex1First = errnoOf(() => a.hwQueueAlloc(fd, { ...args, index: 1 }));
      const q0 = a.hwQueueAlloc(fd, args);
      const q1 = a.hwQueueAlloc(fd, { ...args, index: 1, iova: APERTURE + 0x1000n });
      facts.hwQueueDestroyOrder = errnoOf(() => a.destroy(fd, q0));
      a.destroy(fd, q1);
      a.destroy(fd, q0);
      assert.equal(facts.hwQueueDefaultType, 'EOPNOTSUPP');
      assert.equal(facts.hwQueueUnmapped, 'ENOENT');
    },
  );
  await step('teardown: replace back, destroy vDEVICE and vEVENTQ, close', () => {
    a.mockDomainReplace(fd, md.stdevId, ioas);
    a.destroy(fd, vdev);
    a.close(q.veventqFd);
    a.destroy(fd, q.veventqId);
    a.close(fd);
  });
}

async function main() {
  facts.kernel = os.release();
  await pasidSteps();
  await viommuSteps();
  finish();
}

void main();
