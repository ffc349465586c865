import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explain, IommuscopeError } from '../../main/node/errors';
import { pasidTooOld } from '../../main/node/sources/mock-pasid';

const errno = (code: string) => Object.assign(new Error(`ioctl failed: ${code}`), { code });

test('errors: EACCES points at the udev rule and the iommuscope group', () => {
  for (const ctx of ['open-iommufd', 'open-vfio'] as const) {
    const e = explain(errno('EACCES'), ctx, '/dev/iommu');
    assert.ok(e instanceof IommuscopeError);
    assert.match(e.message, /permission denied on \/dev\/iommu/);
    assert.match(e.message, /resources\/udev\/70-iommuscope\.rules/);
    assert.match(e.message, /'iommuscope' group/);
  }
});

test('errors: each context names its cause and fix', () => {
  const cases: [Parameters<typeof explain>[1], string, RegExp][] = [
    ['open-iommufd', 'ENOENT', /no iommufd.*CONFIG_IOMMUFD.*modprobe iommufd/],
    ['open-vfio', 'ENOENT', /does not exist.*vfio-pci/],
    ['open-vfio', 'EBUSY', /in use/],
    ['mock-test-cmd', 'ENOTTY', /CONFIG_IOMMUFD_TEST/],
    ['mock-domain', 'EINVAL', /intel_iommu=off/],
    ['iopf-hwpt-alloc', 'EOPNOTSUPP', /no PRI.*IOPF/],
    ['iopf-attach', 'ENODEV', /no PRI.*IOPF/],
    ['pasid-attach', 'EINVAL', /no PASID capability.*PASID support/],
    ['pasid-attach', 'EBUSY', /already attached/],
    ['fault-queue-alloc', 'ENOTTY', /IOMMU_FAULT_QUEUE_ALLOC.*6\.11/],
    ['ioas-map', 'ENOMEM', /RLIMIT_MEMLOCK/],
  ];
  for (const [ctx, code, re] of cases) {
    const e = explain(errno(code), ctx, 'x');
    assert.match(e.message, re, `${ctx} ${code}`);
    assert.match(e.message, /Fix: /);
    assert.equal(e.code, code);
  }
});

test('errors: an unmapped errno still names the step and the code', () => {
  const e = explain(errno('EIO'), 'ioas-alloc');
  assert.match(e.message, /allocating an IOAS failed with EIO.*Fix: .*dmesg/);
  assert.equal(explain(e, 'attach'), e, 'already explained errors pass through');
});

test('errors: PASID attach on a kernel without it says too old and names the version', () => {
  const e = pasidTooOld('PASID attach of VFIO devices (VFIO_DEVICE_ATTACH_PASID)');
  assert.match(e.message, /kernel is too old for PASID attach of VFIO devices .*Linux 6\.15/);
  assert.match(e.message, /6\.12 lacks it; 7\.3 has it/);
  assert.match(e.message, /Fix: run Linux 6\.15 or later/);
});
