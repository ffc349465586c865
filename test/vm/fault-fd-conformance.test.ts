// The kernel judges the simulator: native/test/fault_fd_conformance.cc runs
// one sequence of named steps (reads of every size, write errors, partial
// batches, cookie reuse and cookie 0, poll readiness, detach) against the
// selftest mock device's real fault FD in the VM, on 6.12 and on 7.3, and
// against SimChannel here; the transcripts must be identical step by step.
// The kernel's transcript is also kept in test/fixtures (set
// IOMMUSCOPE_RECORD_TRANSCRIPTS=1 to rewrite it) so that the native suite
// checks the simulator against it without a VM.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  buildNativeProgram,
  kernelTranscriptPath,
  parseTranscript,
  type ConformanceStep,
} from '../shared/native-programs';
import { vmArgv, vmKernels, vmSkipReason, vmWorkspace } from './vm';

// A boot is ~5 s idle and 30+ s on a loaded 2-core machine under software
// emulation; the sequence itself takes a second or two.
const VM_RUN_MS = 300_000;

/** A boot that died before the command ran (TCG under load can fail the IO-APIC timer check). */
function bootFailed(status: number, workdir: string): string | undefined {
  if (status !== 125) return undefined;
  const log = path.join(workdir, '.vm', 'console.log');
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  return /Kernel panic[^\n]*/.exec(text)?.[0] ?? 'the VM stopped before the command finished';
}

/** Both transcripts from one build: the simulator's here, the kernel's in the VM. */
function transcripts(kernel: string): { sim: ConformanceStep[]; real: ConformanceStep[] } {
  const ws = vmWorkspace();
  try {
    // Built on the host into the shared work folder: the guest's root file
    // system is this machine's, so the same binary (and libstdc++) runs there.
    const bin = buildNativeProgram('fault_fd_conformance', ws.scratch);
    const simRun = spawnSync(bin, ['--sim'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(simRun.status, 0, simRun.stderr);
    const sim = parseTranscript(simRun.stdout);
    const [program, ...args] = vmArgv('none', ws, [bin, '--kernel'], kernel);
    for (let attempt = 1; ; attempt++) {
      const r = spawnSync(program!, args, {
        encoding: 'utf8',
        timeout: VM_RUN_MS,
        maxBuffer: 16 << 20,
        env: { ...process.env, VM_KERNEL_VERSION: kernel },
      });
      const status = r.status ?? 125;
      const failedBoot = bootFailed(status, ws.workdir);
      if (failedBoot && attempt === 1) {
        console.log(`# ${kernel}: boot failed (${failedBoot}); retrying once`);
        continue;
      }
      assert.equal(
        status,
        0,
        `VM run on ${kernel} failed (exit ${status}):\n${r.stdout}${r.stderr}`,
      );
      return { sim, real: parseTranscript(r.stdout) };
    }
  } finally {
    ws.dispose();
  }
}

function assertSameSteps(a: ConformanceStep[], b: ConformanceStep[], what: string) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    assert.deepEqual(a[i], b[i], `${what}: step ${i + 1} (${b[i]?.step ?? a[i]?.step})`);
  }
}

for (const kernel of vmSkipReason() ? ['(no VM)'] : vmKernels()) {
  test(
    `[${kernel}] fault FD: kernel and simulator give the same transcript (-i none)`,
    { timeout: 2 * VM_RUN_MS + 240_000 },
    (t) => {
      const skip = vmSkipReason();
      if (skip) return t.skip(skip);
      const { sim, real } = transcripts(kernel);
      assert.ok(real.length > 50, `the whole sequence ran on ${kernel}: ${real.length} steps`);
      assertSameSteps(sim, real, `sim vs ${kernel}`);
      const fixture = kernelTranscriptPath(kernel);
      if (process.env.IOMMUSCOPE_RECORD_TRANSCRIPTS === '1') {
        writeFileSync(fixture, real.map((s) => JSON.stringify(s)).join('\n') + '\n');
        console.log(`# recorded ${fixture}`);
      } else {
        const recorded = parseTranscript(readFileSync(fixture, 'utf8'));
        assertSameSteps(recorded, real, `${path.basename(fixture)} vs ${kernel}`);
      }
    },
  );
}
