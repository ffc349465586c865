// The --inject grammar of `watch --source vevent` (selftest vEVENTs made by
// IOMMU_TEST_OP_TRIGGER_VEVENT): comma-separated key=value pairs.
//   count=N     total vEVENTs to trigger (required)
//   rate=R      per second, 0 = as fast as possible (default 0)
//   prefill=K   of those, trigger the first K before the reader starts: a
//               burst that overfills a queue shallower than K (LOST_EVENTS)
import { GrammarError } from './grammar-error';
import { parseRate, parseUint, type Parsed } from './parse-values';
import { didYouMean } from './suggest';

export interface VeventInjectSpec {
  count: number;
  rate: number;
  prefill: number;
}

export const VEVENT_INJECT_USAGE = 'count=N[,rate=R][,prefill=K]';
export const VEVENT_INJECT_MAX_COUNT = 100_000_000;
export const VEVENT_INJECT_MAX_RATE = 10_000_000;

const keys = ['count', 'rate', 'prefill'] as const;
type Key = (typeof keys)[number];

/** Parse a vEVENT --inject string; throws GrammarError naming the bad part and the form. */
export function parseVeventInject(text: string): VeventInjectSpec {
  const fail = (msg: string): never => {
    throw new GrammarError('--inject', `${msg} (expected ${VEVENT_INJECT_USAGE})`);
  };
  const take = <T>(p: Parsed<T>): T => (p.ok ? p.value : fail(p.error));
  if (text.trim() === '') fail('empty injection spec');
  const spec: VeventInjectSpec = { count: 0, rate: 0, prefill: 0 };
  const seen = new Set<Key>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail(`'${part}' is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!(keys as readonly string[]).includes(key))
      fail(`unknown key '${key}'${didYouMean(key, keys)}`);
    const k = key as Key;
    if (seen.has(k)) fail(`key '${k}' given twice`);
    seen.add(k);
    if (k === 'count') spec.count = take(parseUint(value, 'count', 1, VEVENT_INJECT_MAX_COUNT));
    else if (k === 'rate') spec.rate = take(parseRate(value, 'rate', VEVENT_INJECT_MAX_RATE));
    else spec.prefill = take(parseUint(value, 'prefill', 0, VEVENT_INJECT_MAX_COUNT));
  }
  if (!seen.has('count')) fail('count=N is required');
  if (spec.prefill > spec.count) fail(`prefill=${spec.prefill} is more than count=${spec.count}`);
  return spec;
}

export function formatVeventInject(s: VeventInjectSpec): string {
  return `count=${s.count},rate=${s.rate},prefill=${s.prefill}`;
}
