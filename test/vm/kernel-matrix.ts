// Runs a VM test once per kernel image in ../shared/vm, named `[VERSION] name`,
// and checks (and prints) which kernel the guest really booted.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { addonPath } from '../../main/node/native/load';
import { repoRoot, runInVm, VM_RUN_TIMEOUT_MS, vmKernels, vmSkipReason, type VmResult } from './vm';

/** What a kernel-matrix test body gets: its kernel and a runner bound to it. */
export interface KernelRun {
  /** The image's version, e.g. '6.12' or '7.3'. */
  kernel: string;
  /** runInVm on this kernel; checks the guest said it booted this kernel and logs `uname -r`. */
  run(iommu: 'none' | 'vtd', command: string[], timeoutMs?: number): VmResult;
}

/**
 * Register `name` once per kernel image as `[VERSION] name`. Each run prints
 * the guest's `uname -r`. Without a VM every test is skipped, saying why.
 */
export function kernelMatrix(
  name: string,
  body: (k: KernelRun, t: { diagnostic(msg: string): void }) => void | Promise<void>,
  opts: { boots?: number } = {},
): void {
  const skip = vmSkipReason();
  const kernels = skip ? ['(no VM)'] : vmKernels();
  const timeout = VM_RUN_TIMEOUT_MS * (opts.boots ?? 1) + 60_000;
  for (const kernel of kernels) {
    test(`[${kernel}] ${name}`, { skip: skip ?? false, timeout }, async (t) => {
      const k: KernelRun = {
        kernel,
        run(iommu, command, timeoutMs) {
          const boot = () =>
            runInVm(iommu, command, {
              kernel,
              ...(timeoutMs !== undefined ? { timeoutMs } : {}),
            });
          let r = boot();
          if (r.guestKernel === null && r.status === 125) {
            // The guest never started the command (QEMU or the boot failed, e.g. under
            // memory pressure from parallel VMs): one more boot, saying so.
            t.diagnostic(
              `the VM stopped before the command ran; booting again:\n${r.output.slice(-1500)}`,
            );
            r = boot();
          }
          t.diagnostic(`ran on kernel ${r.guestKernel ?? '(unknown: no VM-KERNEL line)'}`);
          console.log(`  [${kernel}] -i ${iommu}: guest uname -r = ${r.guestKernel ?? '?'}`);
          if (r.guestKernel === null || !r.guestKernel.startsWith(`${kernel}.`)) {
            throw new Error(
              `expected the guest to run kernel ${kernel}, it printed ${String(r.guestKernel)} (exit ${r.status}):\n${r.output.slice(-3000)}`,
            );
          }
          return r;
        },
      };
      await body(k, t);
    });
  }
}

/** Run a guest step script (dist/test/vm-guest/SCRIPT); returns its FACTS. */
export function runGuest(
  k: KernelRun,
  iommu: 'none' | 'vtd',
  script: string,
): Record<string, unknown> {
  const guest = path.join(repoRoot, 'dist', 'test', 'vm-guest', script);
  assert.ok(existsSync(guest), `${guest} missing: run npx tsc -p tsconfig.json`);
  assert.ok(existsSync(addonPath()), `${addonPath()} missing: run node scripts/build-native.mjs`);
  const r = k.run(iommu, ['node', path.relative(repoRoot, guest)]);
  assert.equal(r.status, 0, `guest ${script} failed (exit ${r.status}):\n${r.output}`);
  const line = r.output.split('\n').find((l) => l.startsWith('FACTS '));
  assert.ok(line, `no FACTS line in:\n${r.output}`);
  return JSON.parse(line.slice('FACTS '.length)) as Record<string, unknown>;
}
