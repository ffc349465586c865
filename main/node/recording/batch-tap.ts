// More than one consumer of a queue's batches. The native queue takes exactly
// one onBatch callback (start); the tap wraps the queue so that the callback
// its owner gives start() runs first and every subscriber (recorder, metrics)
// sees the same FaultBatch afterwards. A throwing subscriber is reported,
// never allowed to break the owner's batch path.
import type { FaultBatch, NativeFaultQueue } from '../native/addon-types';

export type BatchListener = (b: FaultBatch) => void;
/** Subscribe to a batch stream; returns the unsubscribe function. */
export type BatchSubscribe = (fn: BatchListener) => () => void;

export interface BatchTap {
  /** The queue to hand to the session: identical, except start() also feeds subscribers. */
  readonly queue: NativeFaultQueue;
  readonly subscribe: BatchSubscribe;
}

export function tapQueue(
  inner: NativeFaultQueue,
  onListenerError: (err: unknown) => void = () => {},
): BatchTap {
  const listeners = new Set<BatchListener>();
  const queue = Object.create(inner) as NativeFaultQueue;
  // Methods must run on the real queue (native objects check their receiver).
  for (const key of [
    'setPolicy',
    'respond',
    'drain',
    'pending',
    'totals',
    'inject',
    'injectProgress',
    'stopInject',
    'simDetach',
    'simRefuseAnswers',
    'kernelDetached',
    'close',
  ] as const) {
    const fn = inner[key] as (...args: unknown[]) => unknown;
    Object.defineProperty(queue, key, { value: (...args: unknown[]) => fn.apply(inner, args) });
  }
  Object.defineProperty(queue, 'id', { get: () => inner.id });
  Object.defineProperty(queue, 'closed', { get: () => inner.closed });
  Object.defineProperty(queue, 'start', {
    value: (onBatch: BatchListener) =>
      inner.start((b) => {
        onBatch(b);
        for (const fn of listeners) {
          try {
            fn(b);
          } catch (err) {
            onListenerError(err);
          }
        }
      }),
  });
  return {
    queue,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
