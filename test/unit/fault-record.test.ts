import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addrToNumber,
  decodeFaultRecord,
  decodeFaultRecords,
  encodeFaultRecord,
  FAULT_RECORD_BYTES,
  flagNames,
  formatAddr,
  parsePerm,
  permString,
} from '../../main/common/fault-record';
import { decodeBatch } from '../../main/node/session/decode-batch';
import type { FaultBatch } from '../../main/node/native/addon-types';

/** A record laid out byte by byte as struct iommu_hwpt_pgfault, independent of the encoder. */
function handMadeRecord(): ArrayBuffer {
  const b = new Uint8Array(FAULT_RECORD_BYTES);
  const put32 = (off: number, v: number) =>
    b.set([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24], off);
  put32(0, 3); // flags: PASID_VALID | LAST_PAGE
  put32(4, 7); // dev_id
  put32(8, 0x12345); // pasid
  put32(12, 0x1ff); // grpid
  put32(16, 0xb); // perm r w p
  put32(20, 0); // reserved
  put32(24, 0x89abc000); // addr low
  put32(28, 0x00007f01); // addr high
  put32(32, 4096); // length
  put32(36, 0xdeadbeef); // cookie
  return b.buffer;
}

test('record: decodes every field at the kernel offsets', () => {
  const r = decodeFaultRecord(handMadeRecord());
  assert.deepEqual(r, {
    flags: 3,
    devId: 7,
    pasid: 0x12345,
    grpid: 0x1ff,
    perm: 0xb,
    reserved: 0,
    addrHi: 0x7f01,
    addrLo: 0x89abc000,
    addr: '0x7f0189abc000',
    length: 4096,
    cookie: 0xdeadbeef,
  });
  assert.equal(addrToNumber(r.addrHi, r.addrLo), 0x7f0189abc000);
});

test('record: decodes at an offset and from a DataView; encode round-trips', () => {
  const buf = new ArrayBuffer(FAULT_RECORD_BYTES * 3);
  const view = new DataView(buf);
  const recs = [0, 1, 2].map((i) => ({
    flags: i === 2 ? 2 : 0,
    devId: 1,
    pasid: 0,
    grpid: 5,
    perm: 1,
    addrHi: 0,
    addrLo: 0x1000 * (i + 1),
    length: 4096,
    cookie: 42,
  }));
  recs.forEach((r, i) => encodeFaultRecord(r, view, i * FAULT_RECORD_BYTES));
  const out = decodeFaultRecords(buf);
  assert.equal(out.length, 3);
  assert.equal(decodeFaultRecord(view, 80).addr, '0x3000');
  assert.deepEqual(
    out.map(({ addr: _a, reserved: _r, ...rest }) => rest),
    recs,
  );
});

test('record: refuses to read past the end', () => {
  assert.throws(() => decodeFaultRecord(new ArrayBuffer(39)), RangeError);
  assert.throws(() => decodeFaultRecord(new ArrayBuffer(80), 41), /does not fit/);
  assert.throws(() => decodeFaultRecord(new ArrayBuffer(80), -1), RangeError);
});

test('record: flag and perm names', () => {
  assert.deepEqual(flagNames(0), []);
  assert.deepEqual(flagNames(3), ['PASID_VALID', 'LAST_PAGE']);
  assert.deepEqual(flagNames(0x10), ['BIT4']);
  assert.equal(permString(0), '-');
  assert.equal(permString(0xf), 'rwxp');
  assert.equal(permString(0x12), 'w+0x10');
  assert.equal(parsePerm('rw'), 3);
  assert.equal(parsePerm('px'), 12);
  assert.match(String(parsePerm('R')), /unknown permission letter/);
  assert.equal(formatAddr(0, 0), '0x0');
  assert.equal(formatAddr(1, 0), '0x100000000');
  assert.equal(formatAddr(0xffffffff, 0xffffffff), '0xffffffffffffffff');
});

test('decodeBatch: columnar arrays match the record decoder', () => {
  const rec = handMadeRecord();
  const two = new Uint8Array(FAULT_RECORD_BYTES * 2);
  two.set(new Uint8Array(rec), 0);
  two.set(new Uint8Array(rec), FAULT_RECORD_BYTES);
  new DataView(two.buffer).setUint32(FAULT_RECORD_BYTES + 36, 99, true);
  const totals = {
    faults: 2,
    groups: 2,
    answered: 1,
    success: 1,
    invalid: 0,
    byUser: 0,
    byPolicy: 1,
    byDrain: 0,
    byKernel: 0,
    pending: 1,
    errors: 0,
    overflow: 0,
    malformed: 0,
    reads: 1,
  };
  const raw: FaultBatch = {
    queue: 3,
    read: {
      group: new Float64Array([41, 42]),
      cookie: new Uint32Array([0xdeadbeef, 99]),
      first: new Uint32Array([0, 1]),
      pages: new Uint32Array([1, 1]),
      readNs: new Float64Array([10, 20]),
    },
    records: two.buffer,
    answered: {
      group: new Float64Array([40]),
      cookie: new Uint32Array([5]),
      codes: new Uint8Array([0]),
      by: new Uint8Array([1]),
      rule: new Int16Array([-1]),
      latencyNs: new Float64Array([1234]),
    },
    errors: [],
    overflow: 0,
    totals,
  };
  const b = decodeBatch(raw, 7);
  assert.equal(b.seq, 7);
  assert.equal(b.count, 2);
  assert.deepEqual(Array.from(b.cookie), [0xdeadbeef, 99]);
  assert.deepEqual(Array.from(b.devId), [7, 7]);
  assert.deepEqual(Array.from(b.pasid), [0x12345, 0x12345]);
  assert.deepEqual(Array.from(b.grpid), [0x1ff, 0x1ff]);
  assert.deepEqual(Array.from(b.perm), [0xb, 0xb]);
  assert.deepEqual(Array.from(b.flags), [3, 3]);
  assert.deepEqual(Array.from(b.addrHi), [0x7f01, 0x7f01]);
  assert.deepEqual(Array.from(b.addrLo), [0x89abc000, 0x89abc000]);
  assert.deepEqual(Array.from(b.length), [4096, 4096]);
  assert.deepEqual(Array.from(b.read.readNs), [10, 20]);
  assert.deepEqual(Array.from(b.read.group), [41, 42]);
  assert.equal(b.read.count, 2);
  assert.equal(b.queue, 3);
  assert.equal(b.groupsLeftOut, 0);
  assert.equal(b.answered.count, 1);
  assert.equal(b.answered.group[0], 40);
  assert.equal(b.answered.latencyNs[0], 1234);
  assert.equal(b.totals, totals);
});
