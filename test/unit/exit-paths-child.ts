// Child process for cli-exit-paths.test.ts: runs the real CLI (main()) with
// one injected bug, chosen by argv[2]:
//   batch-throw   a FaultSession batch listener throws on the 5th batch
//                 (the native thread-safe-function callback path)
//   timer-throw   a timer callback throws once 20 groups are pending
//   rejection     a promise is rejected with nobody listening, likewise
// The rest of argv is the CLI command line.
import { FaultSession } from '../../main/node/session/fault-session';
import { main } from '../../main/node/cli/main';

const [mode, ...argv] = process.argv.slice(2);
const sessions: FaultSession[] = [];
const originalOn = FaultSession.prototype.on;
type On = (this: FaultSession, event: 'batch' | 'closed', fn: (v: unknown) => void) => () => void;

(FaultSession.prototype as unknown as { on: On }).on = function (event, fn) {
  const off = (originalOn as unknown as On).call(this, event, fn);
  if (event === 'batch' && !sessions.includes(this)) {
    sessions.push(this);
    let batches = 0;
    if (mode === 'batch-throw') {
      (originalOn as unknown as On).call(this, 'batch', () => {
        if (++batches === 5) throw new Error('simulated bug in a batch listener');
      });
    }
  }
  return off;
};

if (mode === 'timer-throw' || mode === 'rejection') {
  const timer = setInterval(() => {
    const s = sessions[0];
    if (!s || s.totals().pending < 20) return;
    clearInterval(timer);
    if (mode === 'timer-throw') throw new Error('simulated bug in a timer');
    void Promise.reject(new Error('simulated rejected promise'));
  }, 10);
}

void main(argv).then((code) => {
  process.exitCode = code;
});
