// The simulator's fault FD (native/src/sim_channel.cc) on its own: the C++
// steps of native/test/sim_channel_test.cc (multi-page groups, cookies, PRI
// credit, refused answers), and the conformance sequence compared with the
// kernels' own transcripts recorded in the VM (test/vm/fault-fd-conformance).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  buildNativeProgram,
  kernelTranscriptPath,
  parseTranscript,
} from '../shared/native-programs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iommuscope-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let conformance: string | undefined;
const conformanceBin = () => (conformance ??= buildNativeProgram('fault_fd_conformance', dir));

test('SimChannel steps: groups, cookies, credit, refusal, detach', () => {
  const bin = buildNativeProgram('sim_channel_test', dir);
  const r = spawnSync(bin, [], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `sim_channel_test failed:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /PASS: 0 failed/);
  assert.ok((r.stdout.match(/^ok - /gm) ?? []).length >= 10, r.stdout);
});

for (const kernel of ['6.12', '7.3'] as const) {
  test(`the sim's conformance transcript equals the ${kernel} kernel's, step by step`, () => {
    const r = spawnSync(conformanceBin(), ['--sim'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const sim = parseTranscript(r.stdout);
    const recorded = parseTranscript(readFileSync(kernelTranscriptPath(kernel), 'utf8'));
    assert.ok(recorded.length > 50, 'the recorded transcript has the whole sequence');
    for (let i = 0; i < Math.max(sim.length, recorded.length); i++) {
      assert.deepEqual(sim[i], recorded[i], `step ${i + 1} (${recorded[i]?.step ?? sim[i]?.step})`);
    }
  });
}
