// IOMMU_GET_HW_INFO decoding (main/common/hw-info*.ts): one case per info type
// of 7.3's iommufd.h, with the VT-d registers of the test VM's emulated unit,
// plus the size rules (shorter struct from an older kernel, longer from a newer).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCapabilities, decodeHwInfo, type DecodedHwInfo } from '../../main/common/hw-info';

function le(...words: [bits: 32 | 64 | 8, value: bigint | number][]): string {
  return words
    .map(([bits, v]) => {
      const b = Buffer.alloc(bits / 8);
      if (bits === 64) b.writeBigUInt64LE(BigInt(v));
      else if (bits === 32) b.writeUInt32LE(Number(v));
      else b.writeUInt8(Number(v));
      return b.toString('hex');
    })
    .join('');
}

const field = (d: DecodedHwInfo, key: string) => d.fields.find((f) => f.key === key)?.value;

// dmar0 of QEMU's intel-iommu (x-scalable-mode=on, caching-mode=on), as the VM's sysfs shows it.
const VTD_CAP = 0xd2008c22260286n;
const VTD_ECAP = 0x480080f00f4an;

test('VT-d: cap/ecap decoded with the sysfs tables; ATS-not-supported capability; no PASID', () => {
  const data = le([32, 0], [32, 0], [64, VTD_CAP], [64, VTD_ECAP]);
  const d = decodeHwInfo({ dataType: 1, dataLen: 24, maxPasidLog2: 0, capabilities: '0x8', data });
  assert.equal(d.typeName, 'Intel VT-d');
  assert.equal(field(d, 'cap'), '0xd2008c22260286');
  assert.equal(field(d, 'scalableMode'), true);
  assert.equal(field(d, 'cachingMode'), true);
  assert.equal(field(d, 'pasid'), false);
  assert.equal(field(d, 'pageRequests'), false);
  assert.equal(field(d, 'numDomains'), 65536);
  assert.equal(field(d, 'errata772415'), false);
  assert.deepEqual(d.capabilities, {
    dirtyTracking: false,
    pasidExec: false,
    pasidPriv: false,
    atsNotSupported: true,
    unknownBits: '0x0',
  });
  assert.equal(d.pasids, 0);
  assert.deepEqual(d.notes, []);
});

test('size rules: a shorter struct decodes what is there, a longer one says the rest is unknown', () => {
  const short = decodeHwInfo({
    dataType: 1,
    dataLen: 16,
    maxPasidLog2: 0,
    capabilities: '0x0',
    data: le([32, 0], [32, 0], [64, VTD_CAP]),
  });
  assert.equal(field(short, 'cachingMode'), true);
  assert.equal(field(short, 'scalableMode'), undefined, 'no ecap in 16 bytes');
  assert.match(short.notes.join(), /16 of 24 bytes \(older kernel\)/);
  const long = decodeHwInfo({
    dataType: 1,
    dataLen: 32,
    maxPasidLog2: 0,
    capabilities: '0x0',
    data: le([32, 0], [32, 0], [64, VTD_CAP], [64, VTD_ECAP], [64, 0xffn]),
  });
  assert.equal(field(long, 'scalableMode'), true);
  assert.match(long.notes.join(), /32 bytes, 24 known \(newer kernel\)/);
  const clipped = decodeHwInfo({
    dataType: 1,
    dataLen: 300,
    maxPasidLog2: 0,
    capabilities: '0x0',
    data: le([32, 0], [32, 0], [64, VTD_CAP], [64, VTD_ECAP]),
  });
  assert.match(clipped.notes.join(), /reported 300 bytes of info; 24 were kept/);
});

test('ARM SMMUv3: the VMM-usable IDR fields, IIDR and AIDR', () => {
  const idr0 = (1 << 27) | (1 << 26) | (1 << 19) | (1 << 12) | (2 << 2);
  const idr1 = (20 << 6) | 16;
  const idr3 = (1 << 10) | (1 << 11);
  const idr5 = (1 << 4) | (1 << 6) | (1 << 10);
  const iidr = (0x483 << 20) | (2 << 16) | (1 << 12) | 0x43b;
  const data = le(
    [32, 1],
    [32, 0],
    [32, idr0],
    [32, idr1],
    [32, 0],
    [32, idr3],
    [32, 0],
    [32, idr5],
    [32, iidr >>> 0],
    [32, 0x2],
  );
  const d = decodeHwInfo({ dataType: 2, dataLen: 40, maxPasidLog2: 20, capabilities: '0x1', data });
  assert.equal(d.typeName, 'ARM SMMUv3');
  assert.equal(field(d, 'errataRepeatTlbiCfgi'), true);
  assert.equal(field(d, 'stLevel'), 1);
  assert.equal(field(d, 'termModel'), true);
  assert.equal(field(d, 'cd2l'), true);
  assert.equal(field(d, 'asid16'), true);
  assert.equal(field(d, 'ttf'), 2);
  assert.equal(field(d, 'sidBits'), 16);
  assert.equal(field(d, 'ssidBits'), 20);
  assert.equal(field(d, 'ril'), true);
  assert.equal(field(d, 'bbml'), 1);
  assert.equal(field(d, 'gran4k'), true);
  assert.equal(field(d, 'gran16k'), false);
  assert.equal(field(d, 'gran64k'), true);
  assert.equal(field(d, 'vax'), 1);
  assert.equal(field(d, 'implementer'), '0x43b');
  assert.equal(field(d, 'productId'), '0x483');
  assert.equal(field(d, 'variant'), 2);
  assert.equal(field(d, 'revision'), 1);
  assert.equal(field(d, 'architecture'), 'SMMUv3.2');
  assert.equal(d.capabilities.dirtyTracking, true);
  assert.equal(d.pasids, 1 << 20);
});

test('AMD: EFR fields (PPRSup, GTSup, PASmax) and raw EFR2', () => {
  const efr = (1n << 1n) | (1n << 4n) | (15n << 32n);
  const d = decodeHwInfo({
    dataType: 4,
    dataLen: 16,
    maxPasidLog2: 16,
    capabilities: '0x6',
    data: le([64, efr], [64, 0x5n]),
  });
  assert.equal(d.typeName, 'AMD IOMMU');
  assert.equal(field(d, 'pageRequests'), true);
  assert.equal(field(d, 'guestTranslation'), true);
  assert.equal(field(d, 'pasidBits'), 16);
  assert.equal(field(d, 'efr2'), '0x5');
  assert.equal(d.capabilities.pasidExec, true);
  assert.equal(d.capabilities.pasidPriv, true);
});

test('Tegra241 CMDQV: version and the queue / SID counts for PARAM', () => {
  const d = decodeHwInfo({
    dataType: 3,
    dataLen: 8,
    maxPasidLog2: 0,
    capabilities: '0x0',
    data: le([32, 0], [8, 1], [8, 7], [8, 4], [8, 0]),
  });
  assert.equal(d.typeName, 'NVIDIA Tegra241 CMDQV');
  assert.equal(field(d, 'version'), 1);
  assert.equal(field(d, 'vcmdqs'), 128);
  assert.equal(field(d, 'vsids'), 16);
});

test('selftest: test_reg must be 0xdeadbeef; another value is noted', () => {
  const ok = decodeHwInfo({
    dataType: 0xfeedbeef,
    dataLen: 8,
    maxPasidLog2: 20,
    capabilities: '0x1',
    data: le([32, 0], [32, 0xdeadbeef]),
  });
  assert.equal(ok.typeName, 'iommufd selftest');
  assert.equal(field(ok, 'testReg'), '0xdeadbeef');
  assert.deepEqual(ok.notes, []);
  const bad = decodeHwInfo({
    dataType: 0xfeedbeef,
    dataLen: 8,
    maxPasidLog2: 0,
    capabilities: '0x0',
    data: le([32, 0], [32, 1]),
  });
  assert.match(bad.notes.join(), /test_reg 0x1 is not/);
});

test('type NONE and unknown types decode no fields and say why; unknown capability bits noted', () => {
  const none = decodeHwInfo({
    dataType: 0,
    dataLen: 0,
    maxPasidLog2: 0,
    capabilities: '0x0',
    data: '',
  });
  assert.equal(none.typeName, 'none');
  assert.match(none.notes.join(), /no hardware info/);
  const unk = decodeHwInfo({
    dataType: 9,
    dataLen: 4,
    maxPasidLog2: 0,
    capabilities: '0x30',
    data: '01020304',
  });
  assert.equal(unk.typeName, 'unknown');
  assert.deepEqual(unk.fields, []);
  assert.match(unk.notes.join(), /unknown info type 0x9/);
  assert.match(unk.notes.join(), /unknown out_capabilities bits 0x30/);
  assert.equal(decodeCapabilities('0x7').dirtyTracking, true);
});
