// Checks native/src/uapi.h (our own iommufd/VFIO/selftest ABI definitions)
// against the kernel's headers: the same printer program is compiled once
// against each and must print the same sizeof/offsetof for every field.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const ourHeaderDir = path.join(repoRoot, 'native', 'src');
const kernelUapi = path.resolve(repoRoot, '..', 'shared', 'vm', 'uapi-6.12');

/** Every struct we define in uapi.h that the 6.12 kernel also has, with all its fields. */
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
};

/** Ours only (added after 6.12): the layout of the later kernels' PASID attach/detach. */
const pasidStructs: Record<string, string[]> = {
  vfio_device_attach_iommufd_pt_pasid: ['argsz', 'flags', 'pt_id', 'pasid'],
  vfio_device_detach_iommufd_pt_pasid: ['argsz', 'flags', 'pasid'],
};
const pasidExpected = [
  'vfio_device_attach_iommufd_pt_pasid size 16',
  'vfio_device_attach_iommufd_pt_pasid.argsz 0 4',
  'vfio_device_attach_iommufd_pt_pasid.flags 4 4',
  'vfio_device_attach_iommufd_pt_pasid.pt_id 8 4',
  'vfio_device_attach_iommufd_pt_pasid.pasid 12 4',
  'vfio_device_detach_iommufd_pt_pasid size 12',
  'vfio_device_detach_iommufd_pt_pasid.argsz 0 4',
  'vfio_device_detach_iommufd_pt_pasid.flags 4 4',
  'vfio_device_detach_iommufd_pt_pasid.pasid 8 4',
];

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
];

function printerSource(includes: string[], structs: Record<string, string[]>, withIoctls: boolean) {
  const lines = [
    ...includes.map((i) => `#include ${i}`),
    '#include <stdio.h>',
    '#include <stddef.h>',
  ];
  lines.push('int main(void) {');
  for (const [name, fields] of Object.entries(structs)) {
    lines.push(`  printf("${name} size %zu\\n", sizeof(struct ${name}));`);
    for (const f of fields) {
      lines.push(
        `  printf("${name}.${f} %zu %zu\\n", offsetof(struct ${name}, ${f}), sizeof(((struct ${name} *)0)->${f}));`,
      );
    }
  }
  if (withIoctls) {
    for (const c of [...ioctls, ...constants]) {
      lines.push(`  printf("${c} 0x%llx\\n", (unsigned long long)(${c}));`);
    }
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

test('uapi.h compiles as C and has the 6.12 kernel layout for every field', (t) => {
  const noGcc = gccMissing();
  if (noGcc) return t.skip(noGcc);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-uapi-'));
  try {
    const ours = compileAndRun(
      dir,
      'ours',
      printerSource(['"uapi.h"'], sharedStructs, true),
      ourHeaderDir,
    );
    assert.ok(ours.length > 100, 'the printer printed every field');
    if (!existsSync(path.join(kernelUapi, 'linux', 'iommufd.h'))) {
      return t.skip(`no kernel reference headers at ${kernelUapi} (the shared test VM folder)`);
    }
    const kernel = compileAndRun(
      dir,
      'kernel',
      printerSource(
        ['<linux/iommufd.h>', '<linux/vfio.h>', '<linux/iommufd_test.h>'],
        sharedStructs,
        true,
      ),
      kernelUapi,
    );
    assert.deepEqual(ours, kernel);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the PASID attach/detach structs have the later kernels layout', (t) => {
  const noGcc = gccMissing();
  if (noGcc) return t.skip(noGcc);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-uapi-'));
  try {
    const ours = compileAndRun(
      dir,
      'pasid',
      printerSource(['"uapi.h"'], pasidStructs, false),
      ourHeaderDir,
    );
    assert.deepEqual(ours, pasidExpected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the vEVENT header and its LOST_EVENTS flag have the 7.3 kernel layout', (t) => {
  const noGcc = gccMissing();
  if (noGcc) return t.skip(noGcc);
  const uapi73 = path.resolve(repoRoot, '..', 'shared', 'vm', 'uapi-7.3');
  if (!existsSync(path.join(uapi73, 'linux', 'iommufd.h'))) {
    return t.skip(`no kernel reference headers at ${uapi73} (the shared test VM folder)`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-uapi-'));
  const structs = { iommufd_vevent_header: ['flags', 'sequence'] };
  const flag = (src: string) =>
    src.replace(
      '  return 0;',
      '  printf("LOST %u\\n", (unsigned)IOMMU_VEVENTQ_FLAG_LOST_EVENTS);\n  return 0;',
    );
  try {
    const ours = compileAndRun(
      dir,
      'ours73',
      flag(printerSource(['"uapi.h"'], structs, false)),
      ourHeaderDir,
    );
    const kernel = compileAndRun(
      dir,
      'kernel73',
      flag(printerSource(['<linux/iommufd.h>'], structs, false)),
      uapi73,
    );
    assert.deepEqual(ours, [
      'iommufd_vevent_header size 8',
      'iommufd_vevent_header.flags 0 4',
      'iommufd_vevent_header.sequence 4 4',
      'LOST 1',
    ]);
    assert.deepEqual(ours, kernel);
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
      printerSource(['"bad.h"'], { iommu_hwpt_page_response: ['cookie', 'code'] }, false),
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
