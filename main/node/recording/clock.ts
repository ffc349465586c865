// CLOCK_MONOTONIC in ns: libuv's hrtime is clock_gettime(CLOCK_MONOTONIC) on
// Linux, the clock the native reader stamps readNs with.
export function monoNowNs(): bigint {
  return process.hrtime.bigint();
}
