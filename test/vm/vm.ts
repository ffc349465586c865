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
const imagePattern = /^bzImage-(.+)-iommufd-test$/;

/**
 * The kernel versions with an image in ../shared/vm (bzImage-VERSION-iommufd-test),
 * oldest first: every VM test runs once on each (run-in-vm.sh -v VERSION).
 */
export function vmKernels(): string[] {
  if (!existsSync(vmDir)) return [];
  const versions = readdirSync(vmDir)
    .map((f) => imagePattern.exec(f)?.[1])
    .filter((v): v is string => v !== undefined);
  const key = (v: string) => v.split('.').map((x) => Number(x) || 0);
  return versions.sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
      const d = (ka[i] ?? 0) - (kb[i] ?? 0);
      if (d) return d;
    }
    return 0;
  });
}

/** Why VM tests cannot run here, or undefined when they can. */
export function vmSkipReason(): string | undefined {
  if (!existsSync(runner)) return `no ${runner}: the shared test VM is not beside this checkout`;
  if (vmKernels().length === 0) return `no kernel image bzImage-*-iommufd-test in ${vmDir}`;
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

/** A new folder under the checkout's .vm-scratch: the guest sees it at the same path. */
export function repoScratch(prefix: string): { dir: string; dispose(): void } {
  const base = path.join(repoRoot, '.vm-scratch');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
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
  const scratch = repoScratch('run-');
  return {
    workdir: repoRoot,
    scratch: scratch.dir,
    prefix: ['flock', path.join(repoRoot, '.vm.lock')],
    dispose: scratch.dispose,
  };
}

/** The guest prints this line first: `uname -r`, so every run says which kernel it ran on. */
export const GUEST_KERNEL_LINE = 'VM-KERNEL ';

/**
 * argv (program first) that boots the VM with kernel `kernel` (a version from
 * vmKernels()) and runs `command` with cwd = the repo root.
 */
export function vmArgv(
  iommu: 'none' | 'vtd',
  ws: VmWorkspace,
  command: string[],
  kernel: string,
): string[] {
  return [
    ...ws.prefix,
    runner,
    '-i',
    iommu,
    '-v',
    kernel,
    '-w',
    ws.workdir,
    '--',
    'sh',
    '-c',
    `cd "$0" && echo "${GUEST_KERNEL_LINE}$(uname -r)" && exec "$@"`,
    repoRoot,
    ...command,
  ];
}

export interface VmResult {
  status: number;
  output: string;
  /** `uname -r` inside the guest, or null when the guest never printed it. */
  guestKernel: string | null;
}

/**
 * Time limit of one VM run. Software emulation (TCG) on a loaded 2-core
 * machine: a boot alone can take 30-60 s and node start-up several seconds.
 * VM_TIMEOUT_MS overrides it.
 */
export const VM_RUN_TIMEOUT_MS = Number(process.env.VM_TIMEOUT_MS) || 900_000;

/**
 * Boot the VM with `iommu` ('none' for the selftest mock device, 'vtd' for
 * the emulated VT-d) and run `command` (argv) with cwd = the repo root.
 * The guest's environment has VM_SCRATCH, a folder it may write.
 */
export function runInVm(
  iommu: 'none' | 'vtd',
  command: string[],
  opts: { kernel: string; timeoutMs?: number },
): VmResult {
  const ws = vmWorkspace();
  try {
    const [program, ...args] = vmArgv(
      iommu,
      ws,
      ['env', `VM_SCRATCH=${ws.scratch}`, ...command],
      opts.kernel,
    );
    const spawnOpts: SpawnSyncOptions = {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? VM_RUN_TIMEOUT_MS,
      maxBuffer: 64 << 20,
    };
    const r = spawnSync(program!, args, spawnOpts);
    let output = `${String(r.stdout ?? '')}${String(r.stderr ?? '')}`;
    if (r.error) output += `\n(run-in-vm.sh: ${r.error.message})`;
    if (r.status === 125) {
      // The VM stopped before the command finished: keep the end of its console for the report.
      const consoleLog = path.join(ws.workdir, '.vm', 'console.log');
      if (existsSync(consoleLog))
        output += `\n--- end of the VM console ---\n${readFileSync(consoleLog, 'utf8').slice(-2000)}`;
    }
    const line = output.split('\n').find((l) => l.startsWith(GUEST_KERNEL_LINE));
    const guestKernel = line ? line.slice(GUEST_KERNEL_LINE.length).trim() : null;
    return { status: r.status ?? 125, output, guestKernel };
  } finally {
    ws.dispose();
  }
}
