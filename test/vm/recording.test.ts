// Recording, replay, export and metrics against the real kernel (6.12 and
// 7.3): test/vm-guest/recording-mock.ts in the VM with -i none. Runs after
// the merge (it needs the new fault queue contract end to end).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { vmArgv, vmDir, vmSkipReason, vmWorkspace } from './vm';

function runOnKernel(version: string, command: string[]): { status: number; output: string } {
  const ws = vmWorkspace();
  try {
    const argv = vmArgv('none', ws, ['env', `VM_SCRATCH=${ws.scratch}`, ...command]);
    const at = argv.findIndex((a) => a.endsWith('run-in-vm.sh'));
    argv.splice(at + 1, 0, '-v', version);
    const r = spawnSync(argv[0]!, argv.slice(1), {
      encoding: 'utf8',
      timeout: 600_000,
      maxBuffer: 64 << 20,
    });
    return {
      status: r.status ?? 125,
      output: `${String(r.stdout ?? '')}${String(r.stderr ?? '')}`,
    };
  } finally {
    ws.dispose();
  }
}

for (const version of ['6.12', '7.3']) {
  const image = path.join(vmDir, `bzImage-${version}-iommufd-test`);
  const skip = vmSkipReason() ?? (existsSync(image) ? undefined : `no kernel image ${image}`);
  test(
    `VM ${version} -i none: record a mock session, replay and export it, kill -9 while recording, scrape the agent`,
    { skip },
    () => {
      const r = runOnKernel(version, [
        'sh',
        '-c',
        'ip link set lo up && node dist/test/vm-guest/recording-mock.js',
      ]);
      assert.match(r.output, /ALL STEPS PASSED/, r.output.slice(-6000));
      const facts = JSON.parse(/^FACTS (.*)$/m.exec(r.output)![1]!) as {
        watchSummary: { faults: number; groups: number; pending: number };
        replaySummary: { faults: number; groups: number; closed: boolean };
        exportedGroups: number;
        killed: { fileFaults: number; faultsOneSecondBeforeKill: number; closed: boolean };
        agent: { scraped: { faults: number; answered: number }; summary: { faults: number } };
      };
      console.log(`kernel ${version}: ${JSON.stringify(facts.killed)}`);
      assert.equal(facts.replaySummary.faults, facts.watchSummary.faults);
      assert.equal(facts.replaySummary.closed, true);
      assert.equal(facts.exportedGroups, facts.watchSummary.groups);
      assert.ok(facts.killed.fileFaults >= facts.killed.faultsOneSecondBeforeKill);
      assert.equal(facts.agent.scraped.faults, facts.agent.summary.faults);
      assert.equal(r.status, 0);
    },
  );
}
