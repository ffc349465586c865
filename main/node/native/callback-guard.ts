// JS functions the addon calls from its reader thread (queue.start's batch
// callback) run inside Node's thread-safe-function dispatch. For an addon
// built against NAPI_VERSION 8 (ours: native/binding.gyp), Node does not turn
// an exception left by such a call into an uncaught exception: it prints a
// DEP0168 warning and drops it, so the crash drain never ran. Catch it here
// and throw it again from a plain macrotask, where it is an ordinary uncaught
// exception (the exit paths drain, summarise and exit 70).
export function rethrowOutsideNative<A extends unknown[]>(
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (err) {
      setImmediate(() => {
        throw err;
      });
    }
  };
}
