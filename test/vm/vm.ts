// Runs commands inside the iommufd test kernel (../shared/vm). The guest sees
// this machine's root file system read-only, except where vm-init.sh mounts
// its own file systems (tmpfs on /tmp, /run, /root...): a checkout below one
// of those is invisible to the guest. Then the checkout itself is shared as
// the VM's work folder (read-write), one VM at a time under a lock, because
// run-in-vm.sh keeps its files in WORKDIR/.vm. Otherwise each run gets a
// private work folder and VM runs may go side by side.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const vmDir = path.resolve(repoRoot, '..', 'shared', 'vm');
const runner = path.join(vmDir, 'run-in-vm.sh');
const init = path.join(vmDir, 'vm-init.sh');
const kernel = path.join(vmDir, 'bzImage-6.12-iommufd-test');

/** Why VM tests cannot run here, or undefined when they can. */
export function vmSkipReason(): string | undefined {
  if (!existsSync(runner)) return `no ${runner}: the shared test VM is not beside this checkout`;
  if (!existsSync(kernel)) return `no kernel image ${kernel}`;
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  if (qemu.status !== 0) return 'qemu-system-x86_64 not found (apt-get install qemu-system-x86)';
  return undefined;
}

/** Mount points vm-init.sh puts over the host's tree (read from the script itself). */
export function guestMountPoints(): string[] {
  const script = existsSync(init) ? readFileSync(init, 'utf8') : '';
  const points = [...script.matchAll(/^\s*mount -t \S+ (?:-o \S+ )?\S+ (\/\S*)/gm)].map(
    (m) => m[1]!,
  );
  return points.filter((p) => p !== '/');
}

function hiddenInGuest(dir: string): boolean {
  return guestMountPoints().some((p) => dir === p || dir.startsWith(`${p}/`));
}

/** A writable folder the guest sees at the same path, and how to run the VM over it. */
export interface VmWorkspace {
  /** Pass to run-in-vm.sh as -w. */
  workdir: string;
  /** A private folder inside workdir for this run's files (binaries, captures). */
  scratch: string;
  /** Prefix for the run-in-vm.sh command line (a lock when the checkout is shared). */
  prefix: string[];
  dispose(): void;
}

export function vmWorkspace(): VmWorkspace {
  if (!hiddenInGuest(repoRoot)) {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-vm-'));
    return {
      workdir: scratch,
      scratch,
      prefix: [],
      dispose: () => rmSync(scratch, { recursive: true, force: true }),
    };
  }
  const base = path.join(repoRoot, '.vm-scratch');
  mkdirSync(base, { recursive: true });
  const scratch = mkdtempSync(path.join(base, 'run-'));
  return {
    workdir: repoRoot,
    scratch,
    prefix: ['flock', path.join(repoRoot, '.vm.lock')],
    dispose: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/** Kernel versions with an image here (bzImage-VERSION-iommufd-test), e.g. ['6.12', '7.3']. */
export function vmKernels(): string[] {
  if (!existsSync(vmDir)) return [];
  return readdirSync(vmDir)
    .map((f) => /^bzImage-(.+)-iommufd-test$/.exec(f)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/**
 * argv (program first) that boots the VM and runs `command` with cwd = the
 * repo root; `kernel` picks the image (run-in-vm.sh -v), default its own.
 */
export function vmArgv(
  iommu: 'none' | 'vtd',
  ws: VmWorkspace,
  command: string[],
  kernel?: string,
): string[] {
  return [
    ...ws.prefix,
    runner,
    ...(kernel ? ['-v', kernel] : []),
    '-i',
    iommu,
    '-w',
    ws.workdir,
    '--',
    'sh',
    '-c',
    'cd "$0" && exec "$@"',
    repoRoot,
    ...command,
  ];
}

export interface VmResult {
  status: number;
  output: string;
}

/**
 * Boot the VM with `iommu` ('none' for the selftest mock device, 'vtd' for
 * the emulated VT-d) and run `command` (argv) with cwd = the repo root.
 * The guest's environment has VM_SCRATCH, a folder it may write.
 */
export function runInVm(
  iommu: 'none' | 'vtd',
  command: string[],
  opts: { timeoutMs?: number } = {},
): VmResult {
  const ws = vmWorkspace();
  try {
    const [program, ...args] = vmArgv(iommu, ws, ['env', `VM_SCRATCH=${ws.scratch}`, ...command]);
    const spawnOpts: SpawnSyncOptions = {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 300_000,
      maxBuffer: 64 << 20,
    };
    const r = spawnSync(program!, args, spawnOpts);
    const output = `${String(r.stdout ?? '')}${String(r.stderr ?? '')}`;
    return { status: r.status ?? 125, output };
  } finally {
    ws.dispose();
  }
}
