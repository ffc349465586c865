// The --inject grammar: comma-separated key=value pairs describing natively
// paced fault injection (sim: generated page requests; mock: TRIGGER_IOPF).
//   count=N      total page requests (required)
//   rate=R       per second, 0 = as fast as possible (default 0)
//   pasids=A-B   PASIDs used round-robin; 0 means "no PASID" (default 0)
//   devices=K    sim: simulated devices, dev ids 1..K (default 1)
//   group=K      sim: pages per group (default 1; the mock device only does 1)
//   perm=rw      r, w, x (exec), p (priv) (default r)
//   addr=0xA     first address, each request one 4 KiB page after the last (default 0x1000000)
//   outstanding=N  sim: the PRI credit, groups outstanding before the devices stall (default 512)
import { GrammarError } from './grammar-error';
import { parsePerm } from './fault-record';
import {
  addrSpanFits,
  parseHexAddr,
  parseRate,
  parseUint,
  parseUintRange,
  type Parsed,
} from './parse-values';

/** Serialisable (no bigint): crosses IPC as is. */
export interface InjectSpec {
  count: number;
  rate: number;
  pasidMin: number;
  pasidMax: number;
  devices: number;
  groupPages: number;
  perm: number;
  /** First address, '0x…' hex. */
  addr: string;
  /**
   * sim: the PRI credit (a PRI capability's outstanding page request
   * allocation): injection stalls while this many groups are pending.
   * A property of the simulated device, so it is set when the queue opens.
   */
  outstanding?: number;
}

export const INJECT_PAGE_SIZE = 4096;
export const INJECT_MAX_COUNT = 1_000_000_000;
export const INJECT_MAX_RATE = 100_000_000;
/** The slowest paced rate the native injector takes (one request per 1000 s). */
export const INJECT_MIN_RATE = 0.001;
export const INJECT_MAX_DEVICES = 4096;
export const INJECT_MAX_GROUP_PAGES = 512;
/** The sim's PRI credit when none is given (native SimChannel::kDefaultOutstanding). */
export const INJECT_DEFAULT_OUTSTANDING = 512;
/** The native queue's bound for the sim's PRI credit (2^24). */
export const INJECT_MAX_OUTSTANDING = 1 << 24;
/** PASIDs are 20 bits (PCIe). */
export const PASID_MAX = 0xfffff;

export const INJECT_DEFAULTS: Omit<InjectSpec, 'count'> = {
  rate: 0,
  pasidMin: 0,
  pasidMax: 0,
  devices: 1,
  groupPages: 1,
  perm: 1,
  addr: '0x1000000',
};

export const INJECT_USAGE =
  'count=N[,rate=R][,pasids=A-B][,devices=K][,group=K][,perm=r|w|rw|rwx|...][,addr=0xSTART][,outstanding=N]';

type Key = 'count' | 'rate' | 'pasids' | 'devices' | 'group' | 'perm' | 'addr' | 'outstanding';
const keys: readonly Key[] = [
  'count',
  'rate',
  'pasids',
  'devices',
  'group',
  'perm',
  'addr',
  'outstanding',
];

/** Parse an --inject string; throws GrammarError naming the bad part and the accepted form. */
export function parseInject(text: string): InjectSpec {
  const fail = (msg: string): never => {
    throw new GrammarError('--inject', `${msg} (expected ${INJECT_USAGE})`);
  };
  const take = <T>(p: Parsed<T>): T => (p.ok ? p.value : fail(p.error));
  if (text.trim() === '') fail('empty injection spec');
  const spec: InjectSpec = { count: 0, ...INJECT_DEFAULTS };
  const seen = new Set<Key>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail(`'${part}' is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!(keys as readonly string[]).includes(key)) fail(`unknown key '${key}'`);
    const k = key as Key;
    if (seen.has(k)) fail(`key '${k}' given twice`);
    seen.add(k);
    switch (k) {
      case 'count':
        spec.count = take(parseUint(value, 'count', 1, INJECT_MAX_COUNT));
        break;
      case 'rate':
        spec.rate = take(parseRate(value, 'rate', INJECT_MAX_RATE, INJECT_MIN_RATE));
        break;
      case 'pasids': {
        const r = take(parseUintRange(value, 'pasids', 0, PASID_MAX));
        spec.pasidMin = r.min;
        spec.pasidMax = r.max;
        break;
      }
      case 'devices':
        spec.devices = take(parseUint(value, 'devices', 1, INJECT_MAX_DEVICES));
        break;
      case 'group':
        spec.groupPages = take(parseUint(value, 'group', 1, INJECT_MAX_GROUP_PAGES));
        break;
      case 'perm': {
        const p = parsePerm(value);
        spec.perm = typeof p === 'number' ? p : fail(p);
        break;
      }
      case 'addr':
        spec.addr = take(parseHexAddr(value, 'addr'));
        break;
      case 'outstanding':
        spec.outstanding = take(parseUint(value, 'outstanding', 1, INJECT_MAX_OUTSTANDING));
        break;
    }
  }
  if (!seen.has('count')) fail('count=N is required');
  if (!addrSpanFits(spec.addr, spec.count, INJECT_PAGE_SIZE)) {
    fail(`addr ${spec.addr} + count ${spec.count} pages runs past the 64-bit address space`);
  }
  return spec;
}

/** Back to the grammar (for logs and the dashboard). */
export function formatInject(spec: InjectSpec): string {
  const perm = ['r', 'w', 'x', 'p'].filter((_, i) => spec.perm & (1 << i)).join('');
  const pasids =
    spec.pasidMin === spec.pasidMax ? `${spec.pasidMin}` : `${spec.pasidMin}-${spec.pasidMax}`;
  return (
    `count=${spec.count},rate=${spec.rate},pasids=${pasids},devices=${spec.devices},` +
    `group=${spec.groupPages},perm=${perm},addr=${spec.addr}` +
    (spec.outstanding !== undefined ? `,outstanding=${spec.outstanding}` : '')
  );
}
