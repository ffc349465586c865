// The vevent.* requests of the contract, on the core's VeventFeed.
import { RequestError } from '../../common/request-error';
import { GrammarError } from '../../common/grammar-error';
import { parseVeventInject } from '../../common/vevent-inject';
import type { RequestParams, RequestResult } from '../../common/contract';
import type { VeventFeed } from './vevent-feed';

type VeventRequest = 'vevent.state' | 'vevent.open' | 'vevent.close' | 'vevent.trigger';

export function veventHandlers(feed: VeventFeed): {
  [N in VeventRequest]: (p: RequestParams<N>) => Promise<RequestResult<N>>;
} {
  return {
    'vevent.state': async () => feed.state(),
    'vevent.open': async (p) =>
      feed.open({
        ...(p.device !== undefined ? { device: p.device } : {}),
        depth: p.depth,
        virtId: BigInt(p.virtId),
      }),
    'vevent.close': async () => feed.close(),
    'vevent.trigger': async (p) => {
      try {
        feed.trigger(parseVeventInject(p.spec));
      } catch (err) {
        if (err instanceof GrammarError) throw new RequestError('EPARAMS', err.message);
        throw err;
      }
      return { ok: true };
    },
  };
}
