// Where a `watch` run writes: its lines to the test's stream or stdout, and its
// one summary line the same way (through exit-paths for stdout).
import type { Run } from './exit-paths';
import type { OutStream } from './out-writer';

export type TtyOutStream = OutStream & { isTTY?: boolean };

export function runOutput(
  run: Run,
  testOut: TtyOutStream | undefined,
): { out: TtyOutStream; summarize: (obj: object) => void } {
  const stdout = testOut ?? process.stdout;
  // Once stdout is gone (EPIPE: `| head`) nothing more is written or waited for.
  const out: TtyOutStream = {
    write: (chunk) => run.stdoutClosed || stdout.write(chunk),
    once: (event, fn) => stdout.once(event, fn),
    ...(stdout.isTTY !== undefined ? { isTTY: stdout.isTTY } : {}),
  };
  const summarize = (obj: object): void => {
    if (testOut) out.write(`${JSON.stringify(obj)}\n`);
    else run.summary(obj);
    run.end();
  };
  return { out, summarize };
}
