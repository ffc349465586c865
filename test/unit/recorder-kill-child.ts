// Child of recorder.test.ts: records a batch every 5 ms (each with answers)
// and prints the number of batches recorded after each; the parent kills it
// with SIGKILL and checks what the file holds.
import { Recorder } from '../../main/node/recording/recorder';
import { ContractQueue } from '../shared/contract-batches';

const file = process.argv[2]!;
const rec = Recorder.start({ path: file, toolVersion: 'kill-test' });
rec.session({ queue: 1, source: 'sim', policy: 'success' });
const q = new ContractQueue(1);
let n = 0;
setInterval(() => {
  for (let i = 0; i < 20; i++) {
    const g = q.read({ pages: 1 });
    q.answer({ group: g, code: 0, by: 1, latencyNs: 3000 });
  }
  // A read left pending, so every batch also carries unanswered state.
  q.read({ pages: 2 });
  q.tick(5_000_000);
  rec.batch(q.flush());
  process.stdout.write(`${++n}\n`);
}, 5);
