// Runs commands inside the iommufd test kernel (../shared/vm). Each call gets
// its own work folder, so VM tests may run side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const vmDir = path.resolve(repoRoot, '..', 'shared', 'vm');
const runner = path.join(vmDir, 'run-in-vm.sh');
const kernel = path.join(vmDir, 'bzImage-6.12-iommufd-test');

/** Why VM tests cannot run here, or undefined when they can. */
export function vmSkipReason(): string | undefined {
  if (!existsSync(runner)) return `no ${runner}: the shared test VM is not beside this checkout`;
  if (!existsSync(kernel)) return `no kernel image ${kernel}`;
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  if (qemu.status !== 0) return 'qemu-system-x86_64 not found (apt-get install qemu-system-x86)';
  return undefined;
}

export interface VmResult {
  status: number;
  output: string;
}

/**
 * Boot the VM with `iommu` ('none' for the selftest mock device, 'vtd' for
 * the emulated VT-d) and run `command` (argv) with cwd = the repo root.
 * The repo is visible read-only in the guest; `scratch` is writable.
 */
export function runInVm(
  iommu: 'none' | 'vtd',
  command: string[],
  opts: { timeoutMs?: number } = {},
): VmResult {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-vm-'));
  try {
    const r = spawnSync(
      runner,
      ['-i', iommu, '-w', scratch, '--', 'sh', '-c', 'cd "$0" && exec "$@"', repoRoot, ...command],
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 },
    );
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    return { status: r.status ?? 125, output };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
