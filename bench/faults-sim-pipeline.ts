// The sim pipeline alone, for bench/faults-callgrind.ts to count instructions:
// a sim fault queue (default PRI credit 512, 10 ms flushes), policy success,
// N one-page groups injected natively, until all are answered.
//   node dist/bench/faults-sim-pipeline.js N
// Prints {"faults":N,"answered":N}; exit 1 when the run is not clean.
import { addon } from '../test/native/addon';

async function main(count: number): Promise<number> {
  const q = addon().createFaultQueue({ kind: 'sim' });
  q.setPolicy({ rules: [], fallback: { kind: 'success' } });
  let answered = 0;
  q.start((b) => {
    answered = b.totals.answered;
  });
  q.inject({
    count,
    rate: 0,
    pasidMin: 0,
    pasidMax: 0,
    devices: 1,
    groupPages: 1,
    perm: 1,
    addr: 0x10000n,
  });
  // The queue does not keep the process alive; this poll does (cheap, per tick not per fault).
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const p = q.injectProgress();
      if (answered >= count || (p.done && p.failed > 0)) {
        clearInterval(tick);
        resolve();
      }
    }, 50);
  });
  const t = q.totals();
  q.close();
  console.log(JSON.stringify({ faults: t.faults, answered: t.answered }));
  return t.answered === count && t.errors === 0 && t.pending === 0 ? 0 : 1;
}

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) {
  console.error('usage: faults-sim-pipeline.js N');
  process.exitCode = 2;
} else {
  main(n).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exitCode = 1;
    },
  );
}
