// The one place where a failed kernel call (errno + what we were doing) becomes
// a message naming the cause and the fix. Sources and the CLI only call
// explain(); nothing else formats kernel errors.

/** What we were doing when a call failed. */
export type ErrorContext =
  | 'open-iommufd'
  | 'open-vfio'
  | 'vfio-bind'
  | 'ioas-alloc'
  | 'ioas-map'
  | 'attach'
  | 'pasid-attach'
  | 'fault-queue-alloc'
  | 'iopf-hwpt-alloc'
  | 'iopf-attach'
  | 'mock-test-cmd'
  | 'mock-domain'
  | 'hwpt-alloc'
  | 'inject'
  | 'nest-parent-alloc'
  | 'viommu-alloc'
  | 'vdevice-alloc'
  | 'veventq-alloc'
  | 'vevent-attach'
  | 'trigger-vevent'
  | 'addon';

export const UDEV_RULE = 'resources/udev/70-iommuscope.rules';

/** An error the user can act on. `code` is the errno name (or ours, e.g. 'ENOTEST'). */
export class IommuscopeError extends Error {
  constructor(
    readonly context: ErrorContext,
    readonly code: string,
    readonly cause_: string,
    readonly fix: string,
    readonly detail?: string,
  ) {
    super(`${cause_}${detail ? ` (${detail})` : ''}. Fix: ${fix}`);
    this.name = 'IommuscopeError';
  }
}

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
}

function errnoOf(err: unknown): { code: string; detail: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrnoLike;
  const code = typeof e.code === 'string' ? e.code : 'EUNKNOWN';
  const msg = typeof e.message === 'string' ? e.message : String(err);
  return { code, detail: msg };
}

const permissionFix = (path: string): string =>
  `install the udev rule ${UDEV_RULE} (see resources/udev/README.md), ` +
  `add yourself to the 'iommuscope' group (usermod -aG iommuscope $USER) and log in again, ` +
  `so that ${path} is accessible; do not run iommuscope as root`;

/**
 * Turn a failure into an IommuscopeError. `subject` names the object (a path,
 * a PASID, an id) so the message can point at it.
 */
export function explain(err: unknown, ctx: ErrorContext, subject = ''): IommuscopeError {
  if (err instanceof IommuscopeError) return err;
  const { code, detail } = errnoOf(err);
  const make = (cause: string, fix: string): IommuscopeError =>
    new IommuscopeError(ctx, code, cause, fix, detail);

  if (code === 'EACCES' || code === 'EPERM') {
    const path = subject || (ctx === 'open-iommufd' ? '/dev/iommu' : 'the device');
    return make(`permission denied on ${path}`, permissionFix(path));
  }
  switch (ctx) {
    case 'open-iommufd':
      if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO')
        return make(
          `${subject || '/dev/iommu'} does not exist: this kernel has no iommufd`,
          'use a kernel built with CONFIG_IOMMUFD=y/m and load it (modprobe iommufd); ' +
            'iommufd also needs an enabled IOMMU (intel_iommu=on / amd_iommu=on)',
        );
      break;
    case 'open-vfio':
      if (code === 'ENOENT')
        return make(
          `VFIO device cdev ${subject} does not exist`,
          'bind the device to vfio-pci (echo VENDOR DEVICE > /sys/bus/pci/drivers/vfio-pci/new_id) ' +
            'on a kernel with CONFIG_VFIO_DEVICE_CDEV=y; the cdevs are /dev/vfio/devices/vfioN',
        );
      if (code === 'EBUSY')
        return make(
          `VFIO device ${subject} is in use`,
          'close the other user of the device (a VM or another iommuscope) and try again',
        );
      break;
    case 'vfio-bind':
      if (code === 'EBUSY' || code === 'EINVAL')
        return make(
          `cannot bind ${subject} to iommufd: it is already bound, or opened through the legacy VFIO group/container`,
          'close every other user of the device (its /dev/vfio/GROUP file too) and try again',
        );
      break;
    case 'mock-test-cmd':
      return make(
        'this kernel has no iommufd selftest (IOMMU_TEST_CMD): the mock source needs CONFIG_IOMMUFD_TEST=y',
        'use a kernel built with CONFIG_IOMMUFD_TEST (the test VM in ../shared/vm has it), ' +
          'or use --source sim',
      );
    case 'mock-domain':
      return make(
        'the iommufd selftest mock device could not be created',
        'the mock device cannot bind while a real IOMMU driver is active (boot with intel_iommu=off, ' +
          'or use the VM with -i none)',
      );
    case 'iopf-hwpt-alloc':
    case 'iopf-attach':
      if (['EOPNOTSUPP', 'ENOTSUP', 'ENODEV', 'EINVAL', 'ENOTTY'].includes(code))
        return make(
          `${subject || 'the device'} has no PRI, or its IOMMU cannot do IOPF (I/O page faults) for it: ` +
            'the IOPF-capable attach was refused',
          'use a device with PCIe PRI behind an IOMMU with page-request support (VT-d PRS, AMD PPR, ' +
            'SMMUv3 PRI/stall), or --source mock / --source sim to exercise the fault path',
        );
      break;
    case 'pasid-attach':
      // Reached only after the PASID probe passed: the kernel has PASID attach.
      if (code === 'EBUSY')
        return make(
          `${subject || 'the PASID'} is already attached`,
          'pick a PASID that is not in use (attach does not replace)',
        );
      if (code === 'EINVAL' || code === 'EOPNOTSUPP' || code === 'ENODEV')
        return make(
          `attaching ${subject || 'a PASID'} was refused: the device has no PASID capability, ` +
            'its IOMMU does not do PASID, or the PASID is out of its range',
          'use a PASID-capable device (PCIe PASID capability) behind an IOMMU with PASID support ' +
            '(VT-d scalable mode with ecap.PASID, AMD PASmax, SMMUv3 SSIDSIZE), or leave out --pasid',
        );
      break;
    case 'fault-queue-alloc':
      if (code === 'ENOTTY' || code === 'EOPNOTSUPP')
        return make(
          'this kernel has no iommufd fault queues (IOMMU_FAULT_QUEUE_ALLOC, Linux ≥ 6.11)',
          'run Linux 6.11 or later with CONFIG_IOMMUFD',
        );
      break;
    case 'ioas-map':
      if (code === 'ENOMEM')
        return make(
          'mapping memory into the IOAS failed for lack of memory or locked-memory limit',
          'raise RLIMIT_MEMLOCK (ulimit -l)',
        );
      break;
    case 'nest-parent-alloc':
    case 'viommu-alloc':
    case 'vdevice-alloc':
    case 'veventq-alloc':
    case 'vevent-attach':
    case 'trigger-vevent': {
      const e = explainVevent(ctx, code, subject);
      if (e) return make(e.cause, e.fix);
      break;
    }
    case 'addon':
      return make(
        'the native addon is not available',
        'build it with `npm install` or `node scripts/build-native.mjs` (node-gyp, python3, make, g++)',
      );
    default:
      break;
  }
  return make(
    `${describeContext(ctx)}${subject ? ` (${subject})` : ''} failed with ${code}`,
    'check the kernel log (dmesg) for the reason; report it if it persists',
  );
}

/** Kernel versions of the vIOMMU series (the ioctls' errno tells us; these only name the fix). */
export const VIOMMU_SINCE = '6.13';
export const VEVENTQ_SINCE = '6.15';

function explainVevent(
  ctx: ErrorContext,
  code: string,
  subject: string,
): { cause: string; fix: string } | undefined {
  const upgrade = `run Linux ${VEVENTQ_SINCE} or later (the test VM's 7.3 kernel has it)`;
  if (ctx === 'viommu-alloc' && code === 'ENOTTY')
    return {
      cause:
        'this kernel is too old for vEVENTQs: IOMMU_VIOMMU_ALLOC is not an iommufd ioctl here (ENOTTY); ' +
        `vIOMMU came in Linux ${VIOMMU_SINCE} and vEVENTQ (IOMMU_VEVENTQ_ALLOC) in Linux ${VEVENTQ_SINCE}`,
      fix: upgrade,
    };
  if (ctx === 'veventq-alloc' && code === 'ENOTTY')
    return {
      cause:
        'this kernel has vIOMMU but no vEVENTQ: IOMMU_VEVENTQ_ALLOC is not an iommufd ioctl here (ENOTTY); ' +
        `it came in Linux ${VEVENTQ_SINCE}`,
      fix: upgrade,
    };
  if (ctx === 'trigger-vevent' && (code === 'EOPNOTSUPP' || code === 'ENOTTY'))
    return {
      cause: `this kernel's iommufd selftest has no TRIGGER_VEVENT (it came with vEVENTQ, Linux ${VEVENTQ_SINCE})`,
      fix: upgrade,
    };
  if (ctx === 'trigger-vevent' && code === 'ENOENT')
    return {
      cause: 'the mock device has no vIOMMU or no virtual id, so the selftest reports no vEVENT',
      fix: 'give the vDEVICE a non-zero --virt-id',
    };
  const dev = subject || 'the device';
  if (ctx === 'nest-parent-alloc' && (code === 'EOPNOTSUPP' || code === 'EINVAL'))
    return {
      cause:
        `the IOMMU of ${dev} refused a nest-parent HWPT (HWPT_ALLOC with NEST_PARENT, ${code}): ` +
        'it does no nested translation, so it can have no vIOMMU and no vEVENTQ',
      fix: 'use a device behind an ARM SMMUv3 (or Tegra241 CMDQV) with nesting, or --source vevent without --device for the selftest mock',
    };
  if (ctx === 'viommu-alloc' && (code === 'EOPNOTSUPP' || code === 'EINVAL'))
    return {
      cause: `the kernel refused IOMMU_VIOMMU_ALLOC for ${dev} (${code}): its IOMMU driver has no vIOMMU of that type`,
      fix: 'vEVENTQs come from ARM SMMUv3 and Tegra241 CMDQV vIOMMUs: use a device behind one, or --source vevent without --device for the selftest mock',
    };
  if (ctx === 'veventq-alloc' && code === 'EEXIST')
    return {
      cause: 'the vIOMMU already has a vEVENTQ of this type (one per type)',
      fix: 'close the other reader of this vIOMMU',
    };
  if (ctx === 'veventq-alloc' && code === 'EINVAL')
    return {
      cause: 'the kernel refused the vEVENTQ depth (it takes 1..524288)',
      fix: 'pass --depth N with 1 <= N <= 524288',
    };
  if (ctx === 'vdevice-alloc' && code === 'EEXIST')
    return {
      cause: `${dev} already has a vDEVICE on this vIOMMU, or the virtual id is taken`,
      fix: 'pick another --virt-id',
    };
  return undefined;
}

function describeContext(ctx: ErrorContext): string {
  const words: Record<ErrorContext, string> = {
    'open-iommufd': 'opening /dev/iommu',
    'open-vfio': 'opening the VFIO device',
    'vfio-bind': 'binding the VFIO device to iommufd',
    'ioas-alloc': 'allocating an IOAS',
    'ioas-map': 'mapping memory into the IOAS',
    attach: 'attaching the device',
    'pasid-attach': 'attaching the PASID',
    'fault-queue-alloc': 'allocating the fault queue',
    'iopf-hwpt-alloc': 'allocating the IOPF-capable HWPT',
    'iopf-attach': 'attaching the IOPF-capable HWPT',
    'mock-test-cmd': 'the iommufd selftest command',
    'mock-domain': 'creating the mock device',
    'hwpt-alloc': 'allocating an HWPT',
    inject: 'injecting faults',
    'nest-parent-alloc': 'allocating the nest-parent HWPT',
    'viommu-alloc': 'allocating the vIOMMU (IOMMU_VIOMMU_ALLOC)',
    'vdevice-alloc': 'allocating the vDEVICE (IOMMU_VDEVICE_ALLOC)',
    'veventq-alloc': 'allocating the vEVENTQ (IOMMU_VEVENTQ_ALLOC)',
    'vevent-attach': 'attaching the nested HWPT on the vIOMMU',
    'trigger-vevent': 'triggering a vEVENT (IOMMU_TEST_OP_TRIGGER_VEVENT)',
    addon: 'loading the native addon',
  };
  return words[ctx];
}
