// vEVENT data decoders (main/common/vevent-decode.ts): one case per vEVENTQ
// type of 7.3's iommufd.h, the SMMUv3 event record's fields per event class,
// and the negative cases (wrong length, unknown event id, unknown type).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeSmmuv3Event,
  decodeTegra241Event,
  decodeVevent,
  VeventType,
  veventDataBytes,
  veventTypeName,
} from '../../main/common/vevent-decode';

function le64(...words: bigint[]): Uint8Array {
  const b = Buffer.alloc(words.length * 8);
  words.forEach((w, i) => b.writeBigUInt64LE(w, i * 8));
  return new Uint8Array(b);
}

/** SMMUv3 event record dword 0: id, SSV, SubstreamID, StreamID. */
const dw0 = (id: number, sid: number, ssid?: number): bigint =>
  BigInt(id) |
  (ssid !== undefined ? (1n << 11n) | (BigInt(ssid) << 12n) : 0n) |
  (BigInt(sid) << 32n);

test('sizes and names: 32 bytes for SMMUv3, 16 for Tegra241, 4 for the selftest; unknown types', () => {
  assert.equal(veventDataBytes(VeventType.ArmSmmuv3), 32);
  assert.equal(veventDataBytes(VeventType.Tegra241Cmdqv), 16);
  assert.equal(veventDataBytes(VeventType.Selftest), 4);
  assert.equal(veventDataBytes(7), undefined);
  assert.equal(veventTypeName(1), 'ARM SMMUv3');
  assert.equal(veventTypeName(0xbeefbeef), 'selftest');
  assert.equal(veventTypeName(7), 'type 0x7');
});

test('SMMUv3 F_TRANSLATION: StreamID is the virt id, SSV+SubstreamID, read data unpriv, stage 1', () => {
  const d1 = (1n << 35n) | (2n << 40n); // RnW, CLASS=IN
  const d = decodeSmmuv3Event(le64(dw0(0x10, 0x8, 0x5), d1, 0xdead000n, 0n));
  assert.equal(d.kind, 'F_TRANSLATION');
  assert.equal(d.virtId, '8');
  assert.equal(d.fields.streamId, '0x8');
  assert.equal(d.fields.ssv, true);
  assert.equal(d.fields.substreamId, '0x5');
  assert.equal(d.fields.inputAddress, '0xdead000');
  assert.equal(d.fields.access, 'read');
  assert.equal(d.fields.privileged, false);
  assert.equal(d.fields.instruction, false);
  assert.equal(d.fields.stage, 1);
  assert.equal(d.fields.class, 'IN');
  assert.equal(d.fields.ipa, undefined, 'no IPA for a stage-1 fault');
  assert.equal(d.summary, 'F_TRANSLATION sid 0x8 ssid 0x5 read data unpriv addr 0xdead000 s1 IN');
});

test('SMMUv3 F_PERMISSION stage 2: write, priv, insn, IPA from dword 3, stalled with its STAG', () => {
  const d1 = (1n << 39n) | (1n << 34n) | (1n << 33n) | (1n << 31n) | 0x1234n | (1n << 40n);
  const d3 = 0x12345n << 12n;
  const d = decodeSmmuv3Event(le64(dw0(0x13, 0x42), d1, 0xffff_0000_1000n, d3));
  assert.equal(d.kind, 'F_PERMISSION');
  assert.equal(d.fields.ssv, false);
  assert.equal(d.fields.substreamId, undefined, 'no SubstreamID without SSV');
  assert.equal(d.fields.access, 'write');
  assert.equal(d.fields.privileged, true);
  assert.equal(d.fields.instruction, true);
  assert.equal(d.fields.stage, 2);
  assert.equal(d.fields.class, 'TT');
  assert.equal(d.fields.stall, true);
  assert.equal(d.fields.stag, '0x1234');
  assert.equal(d.fields.ipa, '0x12345000');
  assert.equal(d.fields.inputAddress, '0xffff00001000');
});

test('SMMUv3 C_BAD_STE / C_BAD_CD: StreamID (and SubstreamID) only, no address fields', () => {
  const ste = decodeSmmuv3Event(le64(dw0(0x04, 0x1234), 0n, 0n, 0n));
  assert.equal(ste.kind, 'C_BAD_STE');
  assert.equal(ste.summary, 'C_BAD_STE sid 0x1234');
  assert.equal(ste.fields.inputAddress, undefined);
  assert.match(String(ste.fields.meaning), /stream table entry is invalid/);
  const cd = decodeSmmuv3Event(le64(dw0(0x0a, 3, 7), 0n, 0n, 0n));
  assert.equal(cd.summary, 'C_BAD_CD sid 0x3 ssid 0x7');
});

test('SMMUv3 F_CD_FETCH: the fetch address from dword 3 [51:3]', () => {
  const d = decodeSmmuv3Event(le64(dw0(0x09, 1), 0n, 0n, 0xabcdef8n | (0xfffn << 52n)));
  assert.equal(d.fields.fetchAddress, '0xabcdef8', 'bits above 51 are not the address');
});

test('negative: SMMUv3 unknown event id keeps its number; wrong data length is a note', () => {
  const u = decodeSmmuv3Event(le64(dw0(0x42, 1), 0n, 0n, 0n));
  assert.equal(u.kind, 'event 0x42');
  assert.equal(u.fields.meaning, undefined);
  const short = decodeSmmuv3Event(new Uint8Array(31));
  assert.match(short.notes?.[0] ?? '', /32 bytes; got 31/);
});

test('Tegra241 CMDQV: the 128-bit LVCMDQ_ERR_MAP as the list of vCMDQs in error', () => {
  const d = decodeTegra241Event(le64(1n | (1n << 5n), 1n << 1n));
  assert.equal(d.fields.queues, '0,5,65');
  assert.equal(d.fields.count, 3);
  assert.equal(d.fields.errMap, '0x00000000000000020000000000000021');
  assert.equal(d.summary, 'LVCMDQ error: vCMDQ 0,5,65');
  assert.equal(d.virtId, undefined, 'the map names queues, not a device');
  assert.equal(decodeTegra241Event(le64(0n, 0n)).summary, 'LVCMDQ error map empty');
  assert.ok(decodeTegra241Event(new Uint8Array(8)).notes);
});

test('selftest: struct iommu_viommu_event_selftest { u32 virt_id }; dispatch by type', () => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(0x99);
  const d = decodeVevent(VeventType.Selftest, new Uint8Array(b));
  assert.equal(d.kind, 'selftest');
  assert.equal(d.virtId, '153');
  assert.equal(d.summary, 'selftest virt id 0x99');
  assert.equal(decodeVevent(1, le64(dw0(0x10, 2), 0n, 0n, 0n)).kind, 'F_TRANSLATION');
  const unknown = decodeVevent(9, new Uint8Array(3));
  assert.equal(unknown.kind, 'type 0x9');
  assert.match(unknown.notes?.[0] ?? '', /no decoder/);
});
