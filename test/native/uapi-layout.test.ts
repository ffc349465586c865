// Checks native/src/uapi.h (our own iommufd/VFIO/selftest ABI definitions)
// against each kernel's headers (../shared/vm/uapi-6.12 and uapi-7.3): the
// same printer program is compiled against ours and against the kernel's
// and must print the same sizeof/offsetof for every field, and the same
// ioctl numbers and constants. Structs, fields and constants that only 7.3
// has are checked against 7.3 only; structs 7.3 extended are listed with
// both sizes (we keep the older, shorter form, which 7.3 accepts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const ourHeaderDir = path.join(repoRoot, 'native', 'src');
const uapiDir = (version: string) =>
  path.resolve(repoRoot, '..', 'shared', 'vm', `uapi-${version}`);

/** Every struct we define in uapi.h that both kernels have, with the fields both have. */
const sharedStructs: Record<string, string[]> = {
  iommu_destroy: ['size', 'id'],
  iommu_ioas_alloc: ['size', 'flags', 'out_ioas_id'],
  iommu_iova_range: ['start', 'last'],
  iommu_ioas_iova_ranges: [
    'size',
    'ioas_id',
    'num_iovas',
    '__reserved',
    'allowed_iovas',
    'out_iova_alignment',
  ],
  iommu_ioas_map: ['size', 'flags', 'ioas_id', '__reserved', 'user_va', 'length', 'iova'],
  iommu_ioas_unmap: ['size', 'ioas_id', 'iova', 'length'],
  iommu_hwpt_alloc: [
    'size',
    'flags',
    'dev_id',
    'pt_id',
    'out_hwpt_id',
    '__reserved',
    'data_type',
    'data_len',
    'data_uptr',
    'fault_id',
    '__reserved2',
  ],
  iommu_hw_info: [
    'size',
    'flags',
    'dev_id',
    'data_len',
    'data_uptr',
    'out_data_type',
    'out_max_pasid_log2',
    '__reserved',
    'out_capabilities',
  ],
  iommu_hwpt_pgfault: [
    'flags',
    'dev_id',
    'pasid',
    'grpid',
    'perm',
    '__reserved',
    'addr',
    'length',
    'cookie',
  ],
  iommu_hwpt_page_response: ['cookie', 'code'],
  iommu_fault_alloc: ['size', 'flags', 'out_fault_id', 'out_fault_fd'],
  vfio_device_bind_iommufd: ['argsz', 'flags', 'iommufd', 'out_devid'],
  vfio_device_attach_iommufd_pt: ['argsz', 'flags', 'pt_id'],
  vfio_device_detach_iommufd_pt: ['argsz', 'flags'],
  iommu_test_cmd: [
    'size',
    'op',
    'id',
    '__reserved',
    'add_reserved.start',
    'add_reserved.length',
    'mock_domain.out_stdev_id',
    'mock_domain.out_hwpt_id',
    'mock_domain.out_idev_id',
    'mock_domain_replace.pt_id',
    'trigger_iopf.dev_id',
    'trigger_iopf.pasid',
    'trigger_iopf.grpid',
    'trigger_iopf.perm',
    'trigger_iopf.addr',
    'last',
  ],
  iommu_hwpt_selftest: ['iotlb'],
  iommu_hw_info_vtd: ['flags', '__reserved', 'cap_reg', 'ecap_reg'],
  iommu_test_hw_info: ['flags', 'test_reg'],
};

/** Structs 7.3 made longer: kernel size per version (ours is the 6.12 form). */
const grewIn: Record<string, Record<string, number>> = {
  '7.3': {
    vfio_device_bind_iommufd: 24, // + token_uuid_ptr
    vfio_device_attach_iommufd_pt: 16, // + pasid
    vfio_device_detach_iommufd_pt: 12, // + pasid
    iommu_hwpt_selftest: 8, // + pagetable_type
  },
};

/** Only in 7.3: new structs, and new fields of shared ones. */
const only73Structs: Record<string, string[]> = {
  iommu_hw_info: ['in_data_type'],
  iommu_hw_info_arm_smmuv3: ['flags', '__reserved', 'idr', 'iidr', 'aidr'],
  iommu_hw_info_tegra241_cmdqv: ['flags', 'version', 'log2vcmdqs', 'log2vsids', '__reserved'],
  iommu_hw_info_amd: ['efr', 'efr2'],
  iommu_viommu_alloc: [
    'size',
    'flags',
    'type',
    'dev_id',
    'hwpt_id',
    'out_viommu_id',
    'data_len',
    '__reserved',
    'data_uptr',
  ],
  iommu_vdevice_alloc: ['size', 'viommu_id', 'dev_id', 'out_vdevice_id', 'virt_id'],
  iommufd_vevent_header: ['flags', 'sequence'],
  iommu_veventq_alloc: [
    'size',
    'flags',
    'viommu_id',
    'type',
    'veventq_depth',
    'out_veventq_id',
    'out_veventq_fd',
    '__reserved',
  ],
  iommu_hw_queue_alloc: [
    'size',
    'flags',
    'viommu_id',
    'type',
    'index',
    'out_hw_queue_id',
    'nesting_parent_iova',
    'length',
  ],
  iommu_test_cmd: [
    'mock_domain_flags.out_stdev_id',
    'mock_domain_flags.out_hwpt_id',
    'mock_domain_flags.out_idev_id',
    'mock_domain_flags.dev_flags',
    'trigger_vevent.dev_id',
    'pasid_attach.pasid',
    'pasid_attach.pt_id',
    'pasid_detach.pasid',
    'pasid_check.pasid',
    'pasid_check.hwpt_id',
  ],
  iommu_viommu_event_selftest: ['virt_id'],
};

/** Our PASID attach/detach structs are 7.3's full attach/detach structs. */
const only73Renamed: Record<string, { kernel: string; fields: string[] }> = {
  vfio_device_attach_iommufd_pt_pasid: {
    kernel: 'vfio_device_attach_iommufd_pt',
    fields: ['argsz', 'flags', 'pt_id', 'pasid'],
  },
  vfio_device_detach_iommufd_pt_pasid: {
    kernel: 'vfio_device_detach_iommufd_pt',
    fields: ['argsz', 'flags', 'pasid'],
  },
};

const ioctls = [
  'IOMMU_DESTROY',
  'IOMMU_IOAS_ALLOC',
  'IOMMU_IOAS_IOVA_RANGES',
  'IOMMU_IOAS_MAP',
  'IOMMU_IOAS_UNMAP',
  'IOMMU_HWPT_ALLOC',
  'IOMMU_GET_HW_INFO',
  'IOMMU_FAULT_QUEUE_ALLOC',
  'IOMMU_TEST_CMD',
  'VFIO_DEVICE_BIND_IOMMUFD',
  'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
  'VFIO_DEVICE_DETACH_IOMMUFD_PT',
];
const constants = [
  'IOMMU_IOAS_MAP_FIXED_IOVA',
  'IOMMU_IOAS_MAP_WRITEABLE',
  'IOMMU_IOAS_MAP_READABLE',
  'IOMMU_HWPT_ALLOC_NEST_PARENT',
  'IOMMU_HWPT_FAULT_ID_VALID',
  'IOMMU_PGFAULT_FLAGS_PASID_VALID',
  'IOMMU_PGFAULT_FLAGS_LAST_PAGE',
  'IOMMU_PGFAULT_PERM_READ',
  'IOMMU_PGFAULT_PERM_WRITE',
  'IOMMU_PGFAULT_PERM_EXEC',
  'IOMMU_PGFAULT_PERM_PRIV',
  'IOMMUFD_PAGE_RESP_SUCCESS',
  'IOMMUFD_PAGE_RESP_INVALID',
  'IOMMU_TEST_OP_MOCK_DOMAIN',
  'IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE',
  'IOMMU_TEST_OP_TRIGGER_IOPF',
  'IOMMU_HWPT_DATA_SELFTEST',
  'IOMMU_TEST_IOTLB_DEFAULT',
  'IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS',
  'MOCK_FLAGS_DEVICE_NO_DIRTY',
  'IOMMU_HW_INFO_TYPE_INTEL_VTD',
  'IOMMU_HW_INFO_TYPE_SELFTEST',
  'IOMMU_HW_INFO_SELFTEST_REGVAL',
  'IOMMU_HW_CAP_DIRTY_TRACKING',
  'IOMMU_HW_CAP_PCI_PASID_EXEC',
  'IOMMU_HW_CAP_PCI_PASID_PRIV',
  'IOMMU_HWPT_ALLOC_DIRTY_TRACKING',
];

const only73Constants = [
  'IOMMU_VIOMMU_ALLOC',
  'IOMMU_VDEVICE_ALLOC',
  'IOMMU_VEVENTQ_ALLOC',
  'IOMMU_HW_QUEUE_ALLOC',
  'IOMMU_HWPT_ALLOC_PASID',
  'IOMMU_HW_INFO_FLAG_INPUT_TYPE',
  'IOMMU_HW_INFO_TYPE_DEFAULT',
  'IOMMU_HW_INFO_TYPE_ARM_SMMUV3',
  'IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV',
  'IOMMU_HW_INFO_TYPE_AMD',
  'IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED',
  'IOMMU_VEVENTQ_FLAG_LOST_EVENTS',
  'IOMMU_VEVENTQ_TYPE_ARM_SMMUV3',
  'IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV',
  'IOMMU_TEST_OP_TRIGGER_VEVENT',
  'IOMMU_TEST_OP_PASID_ATTACH',
  'IOMMU_TEST_OP_PASID_REPLACE',
  'IOMMU_TEST_OP_PASID_DETACH',
  'IOMMU_TEST_OP_PASID_CHECK_HWPT',
  'MOCK_FLAGS_DEVICE_PASID',
  'MOCK_PASID_WIDTH',
  'IOMMU_VIOMMU_TYPE_SELFTEST',
  'IOMMU_VEVENTQ_TYPE_SELFTEST',
  'IOMMU_HW_QUEUE_TYPE_SELFTEST',
  'IOMMU_TEST_HW_QUEUE_MAX',
  'VFIO_DEVICE_ATTACH_PASID',
  'VFIO_DEVICE_DETACH_PASID',
];

/** One struct to print: `label` in the output, `name` as this compile knows it. */
interface StructSpec {
  label: string;
  name: string;
  fields: string[];
  /** Print the size line too (not for a field list added to a shared struct). */
  size: boolean;
}

function specs(structs: Record<string, string[]>, opts: { size?: boolean } = {}): StructSpec[] {
  return Object.entries(structs).map(([name, fields]) => ({
    label: name,
    name,
    fields,
    size: opts.size ?? true,
  }));
}

function printerSource(includes: string[], structs: StructSpec[], names: string[]) {
  const lines = [
    ...includes.map((i) => `#include ${i}`),
    '#include <stdio.h>',
    '#include <stddef.h>',
  ];
  lines.push('int main(void) {');
  for (const { label, name, fields, size } of structs) {
    if (size) lines.push(`  printf("${label} size %zu\\n", sizeof(struct ${name}));`);
    for (const f of fields) {
      lines.push(
        `  printf("${label}.${f} %zu %zu\\n", offsetof(struct ${name}, ${f}), sizeof(((struct ${name} *)0)->${f}));`,
      );
    }
  }
  for (const c of names) {
    lines.push(`  printf("${c} 0x%llx\\n", (unsigned long long)(${c}));`);
  }
  lines.push('  return 0;', '}');
  return lines.join('\n') + '\n';
}

function compileAndRun(dir: string, name: string, source: string, includeDir: string): string[] {
  const src = path.join(dir, `${name}.c`);
  const exe = path.join(dir, name);
  writeFileSync(src, source);
  const cc = spawnSync(
    'gcc',
    ['-std=gnu11', '-Wall', '-Werror', '-I', includeDir, src, '-o', exe],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(cc.status, 0, `gcc failed for ${name}:\n${cc.stderr}`);
  const run = spawnSync(exe, { encoding: 'utf8' });
  assert.equal(run.status, 0, `${name} failed: ${run.stderr}`);
  return run.stdout.trim().split('\n');
}

function gccMissing(): string | undefined {
  const r = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'gcc is not installed (apt-get install gcc)';
}

// 7.3's vfio.h uses __counted_by, which the build host's older <linux/stddef.h>
// (Debian 12) lacks; the kernel's own uapi stddef.h defines it empty the same way.
const COUNTED_BY = '<linux/stddef.h>\n#ifndef __counted_by\n#define __counted_by(m)\n#endif';
const KERNEL_INCLUDES = [
  COUNTED_BY,
  '<linux/iommufd.h>',
  '<linux/vfio.h>',
  '<linux/iommufd_test.h>',
];

/** Compile the printer against uapi.h and against one kernel's headers; returns both outputs. */
function compareWith(
  version: string,
  structs: StructSpec[],
  renamed: StructSpec[],
  names: string[],
) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-uapi-'));
  try {
    const ours = compileAndRun(
      dir,
      'ours',
      printerSource(['"uapi.h"'], [...structs, ...renamed], names),
      ourHeaderDir,
    );
    const kernelStructs = [
      ...structs,
      ...renamed.map((r) => ({ ...r, name: only73Renamed[r.label]!.kernel })),
    ];
    const kernel = compileAndRun(
      dir,
      'kernel',
      printerSource(KERNEL_INCLUDES, kernelStructs, names),
      uapiDir(version),
    );
    return { ours, kernel };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const version of ['6.12', '7.3']) {
  test(`uapi.h has the ${version} kernel layout for every shared field, ioctl and constant`, (t) => {
    const noGcc = gccMissing();
    if (noGcc) return t.skip(noGcc);
    if (!existsSync(path.join(uapiDir(version), 'linux', 'iommufd.h')))
      return t.skip(
        `no kernel reference headers at ${uapiDir(version)} (the shared test VM folder)`,
      );
    const { ours, kernel } = compareWith(
      version,
      specs(sharedStructs),
      [],
      [...ioctls, ...constants],
    );
    assert.ok(ours.length > 100, 'the printer printed every field');
    const grown = grewIn[version] ?? {};
    // Sizes of the structs this kernel extended: its size as listed, ours the older form.
    const sizeLine = (l: string) => /^(\S+) size (\d+)$/.exec(l);
    const adjusted = kernel.map((l) => {
      const m = sizeLine(l);
      const grew = m ? grown[m[1]!] : undefined;
      if (m && grew !== undefined) {
        assert.equal(Number(m[2]), grew, `${m[1]} in ${version} is ${m[2]} bytes`);
        return ours.find((o) => o.startsWith(`${m[1]} size `))!;
      }
      return l;
    });
    assert.deepEqual(ours, adjusted);
  });
}

test('uapi.h has the 7.3 layout for what only 7.3 has (vIOMMU, vEVENTQ, PASID, hw info types)', (t) => {
  const noGcc = gccMissing();
  if (noGcc) return t.skip(noGcc);
  if (!existsSync(path.join(uapiDir('7.3'), 'linux', 'iommufd.h')))
    return t.skip(`no kernel reference headers at ${uapiDir('7.3')}`);
  const structs = specs(only73Structs).map((st) =>
    st.label === 'iommu_hw_info' || st.label === 'iommu_test_cmd' ? { ...st, size: false } : st,
  );
  const renamed = Object.entries(only73Renamed).map(([label, r]) => ({
    label,
    name: label,
    fields: r.fields,
    size: true,
  }));
  const { ours, kernel } = compareWith('7.3', structs, renamed, only73Constants);
  assert.ok(ours.length > 80);
  assert.deepEqual(ours, kernel);
});

test('the 7.3-only names are really absent from 6.12 (so checking them against 7.3 only is right)', (t) => {
  const noGcc = gccMissing();
  if (noGcc) return t.skip(noGcc);
  if (!existsSync(path.join(uapiDir('6.12'), 'linux', 'iommufd.h')))
    return t.skip(`no kernel reference headers at ${uapiDir('6.12')}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-uapi-'));
  try {
    const compiles = (c: string) => {
      const src = path.join(dir, 'probe.c');
      writeFileSync(
        src,
        `${KERNEL_INCLUDES.map((i) => `#include ${i}`).join('\n')}\nunsigned long long x = (unsigned long long)(${c});\n`,
      );
      const cc = spawnSync('gcc', [
        '-c',
        '-I',
        uapiDir('6.12'),
        src,
        '-o',
        path.join(dir, 'probe.o'),
      ]);
      return cc.status === 0;
    };
    assert.ok(compiles('IOMMU_HWPT_ALLOC'), 'control: a shared name compiles against 6.12');
    const present = only73Constants.filter(compiles);
    assert.deepEqual(present, [], 'these exist in 6.12 too: move them to the shared list');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wrong layout is caught: the printer sees a changed field offset', (t) => {
  const noGcc = gccMissing();
  if (noGcc) return t.skip(noGcc);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-uapi-'));
  try {
    writeFileSync(
      path.join(dir, 'bad.h'),
      'struct iommu_hwpt_page_response { unsigned short cookie; unsigned int code; };\n',
    );
    const bad = compileAndRun(
      dir,
      'bad',
      printerSource(['"bad.h"'], specs({ iommu_hwpt_page_response: ['cookie', 'code'] }), []),
      dir,
    );
    assert.notDeepEqual(bad, [
      'iommu_hwpt_page_response size 8',
      'iommu_hwpt_page_response.cookie 0 4',
      'iommu_hwpt_page_response.code 4 4',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
