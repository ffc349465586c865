// Browser mode against the real kernel: `serve --source mock` in the VM,
// driven over its WebSocket (see test/vm-guest/dashboard-serve-mock.ts).
import assert from 'node:assert/strict';
import { kernelMatrix } from './kernel-matrix';

kernelMatrix('serve --source mock over WebSocket, respond, SIGINT drain (-i none)', (k) => {
  // The guest boots with the loopback interface down: bring it up first.
  const r = k.run('none', [
    'sh',
    '-c',
    'ip link set lo up && node dist/test/vm-guest/dashboard-serve-mock.js',
  ]);
  assert.match(r.output, /ALL STEPS PASSED/, r.output.slice(-4000));
  const facts = JSON.parse(/^FACTS (.*)$/m.exec(r.output)![1]!) as {
    appInfo: { iommuProblem: string | null; mockAvailable: boolean };
    staleCode: string;
    urlAfterMs: number;
    mockHwInfo: { type: string; capabilities: string[]; maxPasidLog2: number };
    summary: { pending: number; answered: number; groups: number };
  };
  assert.equal(facts.appInfo.iommuProblem, null);
  assert.equal(facts.appInfo.mockAvailable, true);
  assert.equal(facts.staleCode, 'ESTALE');
  assert.equal(facts.mockHwInfo.type, 'iommufd selftest');
  assert.equal(facts.mockHwInfo.maxPasidLog2, 0, 'a mock device without MOCK_FLAGS_DEVICE_PASID');
  console.log(
    `  [${k.kernel}] mock hw info capabilities: ${facts.mockHwInfo.capabilities.join(',')}`,
  );
  console.log(`  [${k.kernel}] serve printed its URL after ${facts.urlAfterMs} ms`);
  assert.equal(facts.summary.pending, 0);
  assert.equal(facts.summary.answered, facts.summary.groups);
  assert.equal(r.status, 0);
});
