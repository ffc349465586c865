// inject(spec) is checked at the native boundary: each field's limit with
// the largest accepted value next to the smallest refused one, the error
// naming the field and its range; and the simulated device's PRI credit
// bounds what an enormous injection can hold.
import assert from 'node:assert/strict';
import { openSync } from 'node:fs';
import { test } from 'node:test';
import type { NativeFaultQueue } from '../../main/node/native/addon-types';
import { waitFor } from '../shared/until';
import { addon, collect, spec } from './addon';

type Spec = Parameters<NativeFaultQueue['inject']>[0];

function refused(q: NativeFaultQueue, over: Partial<Spec>, message: RegExp) {
  assert.throws(
    () => q.inject(spec(over)),
    (e: NodeJS.ErrnoException) =>
      e instanceof TypeError && e.code === 'EARG' && message.test(e.message),
    `${JSON.stringify(over, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} → ${message}`,
  );
}

async function accepted(q: NativeFaultQueue, over: Partial<Spec>) {
  q.inject(spec(over));
  q.stopInject();
  await waitFor('injection stopped', () => q.injectProgress().done);
}

test('sim inject: every field is range checked; the limit itself is accepted', async () => {
  const q = addon().createFaultQueue({ kind: 'sim', flushIntervalMs: 2 });
  collect(q);
  q.setPolicy({ rules: [], fallback: { kind: 'success' } });
  try {
    // devices: 0xffffffff used to wrap devices + 1 and crash; 1e9 allocated 3.6 GB.
    refused(
      q,
      { devices: 0xffffffff },
      /spec\.devices must be a whole number in 1\.\.65536, got 4294967295/,
    );
    refused(q, { devices: 1e9 }, /spec\.devices .*1\.\.65536/);
    refused(q, { devices: 65537 }, /spec\.devices/);
    refused(q, { devices: 0 }, /spec\.devices/);
    refused(q, { devices: 1.5 }, /spec\.devices/);
    await accepted(q, { devices: 65536, count: 3 });
    // groupPages: 300000 made the reader spin.
    refused(q, { groupPages: 300000 }, /spec\.groupPages must be a whole number in 1\.\.2048/);
    refused(q, { groupPages: 2049 }, /spec\.groupPages/);
    refused(q, { groupPages: 0 }, /spec\.groupPages/);
    await accepted(q, { groupPages: 2048, count: 2048 });
    // rate: 1e-11 used to inject at full speed.
    refused(q, { rate: 1e-11 }, /spec\.rate must be 0 .* or 1e-3\.\.1e8 per second, got 1e-11/);
    refused(q, { rate: 1.0001e8 }, /spec\.rate/);
    refused(q, { rate: -1 }, /spec\.rate/);
    refused(q, { rate: Infinity }, /spec\.rate must be a finite number/);
    await accepted(q, { rate: 1e-3 });
    await accepted(q, { rate: 1e8 });
    await accepted(q, { rate: 0 });
    // PASIDs are 20 bits.
    refused(q, { pasidMax: 0x100000 }, /spec\.pasidMax must be a whole number in 0\.\.0xfffff/);
    refused(
      q,
      { pasidMin: 9, pasidMax: 1 },
      /spec\.pasidMin \(9\) must be <= spec\.pasidMax \(1\)/,
    );
    await accepted(q, { pasidMin: 0xfffff, pasidMax: 0xfffff });
    // count: whole, 1..2^52 (every page of the 64-bit space).
    refused(q, { count: 0 }, /spec\.count must be a whole number in 1\.\.2\^52 .*, got 0/);
    refused(q, { count: 1.5 }, /spec\.count/);
    refused(q, { count: 2 ** 52 + 1 }, /spec\.count/);
    refused(q, { count: NaN }, /spec\.count must be a finite number/);
    refused(q, { count: 2 ** 52, addr: 0x1000n }, /runs past the 64-bit address space/);
    await accepted(q, { count: 2 ** 52, addr: 0n, rate: 1 });
    // addr: page-aligned, and the last page inside 64 bits.
    refused(q, { addr: 0x1001n }, /spec\.addr must be page-aligned/);
    refused(q, { addr: 0xfffffffffffff000n, count: 2 }, /runs past the 64-bit address space/);
    refused(q, { addr: 1n << 64n }, /spec\.addr must be a bigint in 0\.\.2\^64-1/);
    refused(q, { addr: -4096 as unknown as bigint }, /spec\.addr must be a bigint/);
    await accepted(q, { addr: 0xfffffffffffff000n, count: 1 });
    // perm: IOMMU_PGFAULT_PERM_* bits only.
    refused(q, { perm: 16 }, /spec\.perm must be a whole number in 0\.\.0xf/);
    await accepted(q, { perm: 15 });
    // Shape.
    const { count: _count, ...noCount } = spec();
    assert.throws(() => q.inject(noCount as Spec), /spec\.count is required/);
    assert.throws(() => q.inject(7 as unknown as Spec), /spec must be an object/);
    assert.equal(q.injectProgress().done, true, 'no refused spec started an injection');
  } finally {
    q.stopInject();
    q.close();
  }
});

test('mock inject: one device and one-page groups (the mock cannot do more)', () => {
  const a = addon();
  const fd = openSync('/dev/null', 'r');
  const q = a.createFaultQueue({ kind: 'kernel', faultFd: fd, iommufd: fd, mockDevId: 1 });
  try {
    refused(q, { devices: 2 }, /spec\.devices must be 1 for the mock/);
    refused(q, { groupPages: 2 }, /spec\.groupPages must be 1 for the mock .*TRIGGER_IOPF/);
    refused(q, { rate: 1e-11 }, /spec\.rate/);
    refused(q, { pasidMax: 0x100000 }, /spec\.pasidMax/);
  } finally {
    q.close();
  }
});

test('PRI credit: count 10^9 on hold stops at 512 groups and memory stays bounded', async () => {
  const q = addon().createFaultQueue({ kind: 'sim', flushIntervalMs: 2 });
  collect(q);
  q.setPolicy({ rules: [], fallback: { kind: 'hold' } });
  const rss0 = process.memoryUsage().rss;
  try {
    q.inject(spec({ count: 1e9, groupPages: 4 }));
    await waitFor('512 groups read', () => q.totals().groups === 512);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(q.injectProgress().injected, 512 * 4, 'the device waits for credit');
    assert.equal(q.injectProgress().done, false);
    assert.equal(q.totals().groups, 512);
    const grown = process.memoryUsage().rss - rss0;
    assert.ok(grown < 64 << 20, `RSS grew ${grown} bytes`);
    // Answering returns credit: exactly as many new groups come.
    const ten = q
      .pending()
      .slice(0, 10)
      .map((p) => p.group);
    assert.deepEqual(q.respond(ten, 0).ok, ten, 'the 10 oldest groups answered');
    await waitFor('10 more groups', () => q.totals().groups === 522);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(q.totals().groups, 522);
  } finally {
    q.stopInject();
    q.close();
  }
  assert.equal(q.injectProgress().done, true, 'stopInject wakes a device waiting for credit');
});

test('outstandingLimit 0 means the default credit (512), not unlimited', async () => {
  const q = addon().createFaultQueue({ kind: 'sim', flushIntervalMs: 2, outstandingLimit: 0 });
  collect(q);
  q.setPolicy({ rules: [], fallback: { kind: 'hold' } });
  try {
    q.inject(spec({ count: 600 }));
    await waitFor('512 groups read', () => q.totals().groups === 512);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(q.injectProgress().injected, 512);
  } finally {
    q.stopInject();
    q.close();
  }
});
