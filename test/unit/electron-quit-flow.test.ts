// The Electron app's quit and signal paths (electron-main/quit-flow.ts) in
// plain Node, against a fake core: the dialog's answer picks the drain code,
// Cancel keeps running, a signal drains with the setting; each ends with one
// summary and the documented status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quitFromUi, quitOnSignal, type QuitDeps } from '../../main/electron-main/quit-flow';
import type { SessionSummary } from '../../main/node/session/fault-session';

function fakeDeps(pending: number, answer: number, errors = 0) {
  const closedWith: (0 | 1 | undefined)[] = [];
  const summaries: object[] = [];
  const exits: number[] = [];
  const asked: string[] = [];
  let last: SessionSummary | undefined;
  const deps: QuitDeps = {
    core: {
      pendingCount: () => pending,
      drainCode: 1,
      close: async (code) => {
        closedWith.push(code);
        last = {
          faults: pending,
          groups: pending,
          answered: pending,
          success: code === 0 ? pending : 0,
          invalid: code === 1 ? pending : 0,
          pending: 0,
          errors,
          overflow: 0,
          malformed: 0,
          reads: 1,
          byUser: 0,
          byPolicy: 0,
          byDrain: 0,
          byKernel: 0,
          by: { user: 0, policy: 0, drain: pending, kernel: 0 },
          teardownErrors: [],
        };
      },
      get lastSessionSummary() {
        return last;
      },
    },
    ask: async (p) => {
      asked.push(String(p.message));
      return answer;
    },
    summary: (o) => void summaries.push(o),
    exit: (s) => void exits.push(s),
    log: () => {},
  };
  return { deps, closedWith, summaries, exits, asked };
}

test('quit with groups pending: "Drain as Success" drains SUCCESS, summary, exit 0', async () => {
  const f = fakeDeps(3, 1);
  assert.equal(await quitFromUi(f.deps), 0);
  assert.match(f.asked[0]!, /3 page request groups are still waiting/);
  assert.deepEqual(f.closedWith, [0]);
  assert.equal(f.summaries.length, 1);
  assert.deepEqual(f.exits, [0]);
});

test('quit with groups pending: Cancel keeps running (nothing closed, no exit)', async () => {
  const f = fakeDeps(3, 2);
  assert.equal(await quitFromUi(f.deps), 'cancel');
  assert.deepEqual(f.closedWith, []);
  assert.deepEqual(f.exits, []);
});

test('quit with nothing pending: no dialog, the drain-code setting, exit 0', async () => {
  const f = fakeDeps(0, 0);
  await quitFromUi(f.deps);
  assert.deepEqual(f.asked, []);
  assert.deepEqual(f.closedWith, [1]);
});

test('a stop signal drains with the setting, no dialog; errors make the status 1', async () => {
  const f = fakeDeps(4, 0, 2);
  assert.equal(await quitOnSignal(f.deps, 'SIGHUP'), 1);
  assert.deepEqual(f.closedWith, [1]);
  assert.equal((f.summaries[0] as { stopReason: string }).stopReason, 'SIGHUP');
  assert.deepEqual(f.exits, [1]);
});
