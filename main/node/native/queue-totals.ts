// A queue's totals before anything was read: the starting point of every
// projection that moves by deltas between batches (metrics, replay, fakes).
import type { QueueTotals } from './addon-types';

export function zeroQueueTotals(): QueueTotals {
  return {
    faults: 0,
    groups: 0,
    answered: 0,
    success: 0,
    invalid: 0,
    byUser: 0,
    byPolicy: 0,
    byDrain: 0,
    byKernel: 0,
    pending: 0,
    errors: 0,
    overflow: 0,
    malformed: 0,
    reads: 0,
  };
}
