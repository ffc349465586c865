// The contract's counters (Totals) out of a queue's totals, all zero before
// a session: shared by the dashboard frames and the `watch` summary line.
import type { Totals } from '../../common/contract';
import type { QueueTotals } from '../native/addon-types';

export function toTotals(q: QueueTotals | undefined): Totals {
  return {
    faults: q?.faults ?? 0,
    groups: q?.groups ?? 0,
    answered: q?.answered ?? 0,
    success: q?.success ?? 0,
    invalid: q?.invalid ?? 0,
    pending: q?.pending ?? 0,
    errors: q?.errors ?? 0,
    overflow: q?.overflow ?? 0,
    malformed: q?.malformed ?? 0,
  };
}
