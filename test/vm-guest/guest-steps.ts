// Tiny kernel-selftest-style step runner for guest scripts run inside the
// test VM: each step prints "ok - name" or "not ok - name: why"; facts the
// host test asserts on are printed as one "FACTS {json}" line at the end.
import type { NativeError } from '../../main/node/native/addon-types';
import { waitFor as waitForLocal } from '../shared/until';

export { addon } from '../native/addon';

export const facts: Record<string, unknown> = {};
let failures = 0;

export async function step(name: string, fn: () => unknown | Promise<unknown>): Promise<void> {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    failures++;
    const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.log(`not ok - ${name}: ${why}`);
  }
}

/** Run fn expecting a NativeError; returns its code (and records it as a fact). */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const e = err as NativeError;
    return e.code ?? 'NO_CODE';
  }
  return 'OK';
}

/**
 * The shared waitFor with a longer default deadline: the guest runs under
 * TCG, slowly, and on a loaded 2-core host several times slower still.
 */
export function waitFor(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  return waitForLocal(what, cond, timeoutMs);
}

/**
 * How long a spawned CLI may take to print its first line. A node start in the
 * guest reads its modules over 9p under TCG: the agent took 9.5-15.6 s on an
 * idle host and more than 30 s in a loaded CI run (a 30 s wait failed there).
 */
export const CLI_START_MS = 240_000;

export function finish(): never {
  console.log(`FACTS ${JSON.stringify(facts)}`);
  console.log(failures ? `FAILED ${failures} step(s)` : 'ALL STEPS PASSED');
  process.exit(failures ? 1 : 0);
}
