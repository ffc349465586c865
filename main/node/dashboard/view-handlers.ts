// The requests answered from the session's view (the fault log and the rate
// archives): they read what the core keeps, so they work after the session
// closes and answer empty before the first one opens.
import { toGroupSeq } from './respond';
import type { Handlers } from './dispatch';
import { MAX_RATE_SERIES, type SessionView } from './session-view';

const EMPTY_TABLE = { rows: [], leftOut: 0 };

type ViewHandlerNames = 'faults.query' | 'rates.history' | 'faults.stats' | 'faults.detail';

export function viewHandlers(
  view: () => SessionView | undefined,
): Pick<Handlers, ViewHandlerNames> {
  return {
    'faults.query': async (p) =>
      view()?.log.query(p.offset, p.limit, p.filter, p.sort, p.locate) ?? {
        total: 0,
        rows: [],
        ...(p.locate !== undefined ? { at: null } : {}),
      },

    'rates.history': async (p) => {
      const v = view();
      const points = p.points ?? 600;
      if (!v) return { bucketMs: 1000, tEndMs: 0, byDevice: [], byPasid: [] };
      const now = v.nowMs();
      const dev = v.archiveDevice.view(now, p.seconds, points, MAX_RATE_SERIES);
      const pasid = v.archivePasid.view(now, p.seconds, points, MAX_RATE_SERIES);
      return {
        bucketMs: dev.bucketMs,
        tEndMs: dev.tEndMs,
        byDevice: dev.series,
        byPasid: pasid.series,
      };
    },

    'faults.stats': async (p) =>
      view()?.log.stats(p.filter, p.maxConversations) ?? {
        groups: 0,
        byDevice: EMPTY_TABLE,
        byPasid: EMPTY_TABLE,
        conversations: EMPTY_TABLE,
      },

    'faults.detail': async (p) => {
      const seq = toGroupSeq(p.group);
      return seq === undefined ? null : (view()?.log.detail(seq) ?? null);
    },
  };
}
