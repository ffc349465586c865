// Recording, replay, export and metrics against the real kernel (every image
// in ../shared/vm, named [VERSION]): test/vm-guest/recording-mock.ts in the VM
// with -i none.
import assert from 'node:assert/strict';
import { kernelMatrix } from './kernel-matrix';

kernelMatrix(
  'VM -i none: record a mock session, replay and export it, kill -9 while recording, scrape the agent',
  (k, t) => {
    const r = k.run('none', [
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
    t.diagnostic(`kernel ${k.kernel}: killed recording ${JSON.stringify(facts.killed)}`);
    assert.equal(facts.replaySummary.faults, facts.watchSummary.faults);
    assert.equal(facts.replaySummary.groups, facts.watchSummary.groups);
    assert.equal(facts.replaySummary.closed, true);
    assert.equal(facts.exportedGroups, facts.watchSummary.groups);
    assert.ok(facts.killed.fileFaults >= facts.killed.faultsOneSecondBeforeKill);
    assert.equal(facts.killed.closed, false);
    assert.equal(facts.agent.scraped.faults, facts.agent.summary.faults);
    assert.equal(r.status, 0);
  },
);
