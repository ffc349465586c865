// Polling waits shared by the tests: the core, the addon and the kernel work
// on their own schedule, so a test waits for what it expects, with a deadline
// and a message naming what never came.

/**
 * Polls `fn` every `stepMs` until it returns something other than undefined
 * or false, and resolves with that; throws naming `what` after `ms`.
 */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
  stepMs = 10,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Polls the synchronous check `cond` every 2 ms until it holds; throws naming `what` after `ms`. */
export async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  await until(what, () => cond() || undefined, ms, 2);
}
