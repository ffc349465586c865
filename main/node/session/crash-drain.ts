// Last line of defence for exactly-once answering: if the process is about
// to die on an error nobody caught, answer every group still pending on every
// open fault queue (synchronously: native drain writes the answers) before it
// goes. Without this the kernel would only answer them when the fds close.
import type { NativeFaultQueue } from '../native/addon-types';

const openQueues = new Set<NativeFaultQueue>();

export function trackQueue(queue: NativeFaultQueue): () => void {
  openQueues.add(queue);
  return () => openQueues.delete(queue);
}

/** Drain every open queue with `code`; returns how many groups were answered. */
export function drainAllOpenQueues(code: 0 | 1): number {
  let answered = 0;
  for (const q of openQueues) {
    try {
      if (q.closed) continue;
      // A dying process makes no more faults (sim/mock injection), then answers what it read.
      q.stopInject();
      answered += q.drain(code);
      // Groups the reader delivered during the first round.
      for (let round = 0; round < 3 && q.totals().pending > 0; round++) answered += q.drain(code);
    } catch {
      // Keep going: the other queues still need their answers.
    }
  }
  return answered;
}

/**
 * Install handlers that drain (INVALID: the device must not retry on state we
 * no longer track), report, and exit with status 70 (EX_SOFTWARE).
 */
export function drainOnCrash(name: string, exit: (code: number) => void = process.exit): void {
  const die = (kind: string, err: unknown): void => {
    const n = drainAllOpenQueues(1);
    const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(
      `${name}: ${kind}: ${why}\n${name}: answered ${n} pending group(s) INVALID before exiting\n`,
    );
    exit(70);
  };
  process.on('uncaughtException', (err) => die('internal error', err));
  process.on('unhandledRejection', (err) => die('unhandled rejection', err));
}
