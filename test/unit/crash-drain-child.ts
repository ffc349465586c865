// Child process for crash-drain.test.ts: opens a sim session that holds every
// group, waits until `count` groups are pending, then dies on an uncaught
// exception. The crash handler must answer them before the process exits.
import { FaultSession } from '../../main/node/session/fault-session';
import { drainOnCrash } from '../../main/node/session/crash-drain';
import { INJECT_DEFAULTS } from '../../main/common/inject';
import { fakeSimAddon } from '../shared/fake-fault-queue';
import { tryLoadAddon } from './addon-available';

const count = Number(process.argv[2] ?? '5');
drainOnCrash('crash-child');
// The native simulator, or the TS fake of its contract until the built addon has it.
const session = FaultSession.open({
  source: 'sim',
  flushIntervalMs: 5,
  ...(tryLoadAddon() ? {} : { addon: fakeSimAddon() }),
});
session.inject({ ...INJECT_DEFAULTS, count });
const timer = setInterval(() => {
  if (session.totals().pending === count) {
    clearInterval(timer);
    process.stdout.write(`pending ${count}\n`);
    throw new Error('simulated bug in a request handler');
  }
}, 5);
