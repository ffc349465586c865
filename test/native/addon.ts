// The addon for native tests: the normal build, or IOMMUSCOPE_ADDON when set
// (a private build, so a test run does not race another build of the tree).
import type { FaultBatch, NativeAddon, NativeFaultQueue } from '../../main/node/native/addon-types';
import { loadAddon } from '../../main/node/native/load';

export function addon(): NativeAddon {
  const alt = process.env.IOMMUSCOPE_ADDON;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return alt ? (require(alt) as NativeAddon) : loadAddon();
}

export interface Answer {
  cookie: number;
  code: number;
  by: number;
  rule: number;
  latencyNs: number;
}

/** A started queue with everything it delivered collected. */
export function collect(q: NativeFaultQueue) {
  const seen = { batches: [] as FaultBatch[], answers: [] as Answer[], records: 0 };
  q.start((b) => {
    seen.batches.push(b);
    seen.records += b.records.byteLength / 40;
    b.answered.cookies.forEach((cookie, i) =>
      seen.answers.push({
        cookie,
        code: b.answered.codes[i] ?? -1,
        by: b.answered.by[i] ?? -1,
        rule: b.answered.rule[i] ?? -2,
        latencyNs: b.answered.latencyNs[i] ?? -1,
      }),
    );
  });
  return seen;
}

export interface Rec {
  flags: number;
  devId: number;
  pasid: number;
  grpid: number;
  perm: number;
  addr: bigint;
  cookie: number;
}

export function records(buf: ArrayBuffer): Rec[] {
  const out: Rec[] = [];
  for (let off = 0; off < buf.byteLength; off += 40) {
    const v = new DataView(buf, off, 40);
    out.push({
      flags: v.getUint32(0, true),
      devId: v.getUint32(4, true),
      pasid: v.getUint32(8, true),
      grpid: v.getUint32(12, true),
      perm: v.getUint32(16, true),
      addr: v.getBigUint64(24, true),
      cookie: v.getUint32(36, true),
    });
  }
  return out;
}

export const spec = (over: Partial<Parameters<NativeFaultQueue['inject']>[0]> = {}) => ({
  count: 1,
  rate: 0,
  pasidMin: 0,
  pasidMax: 0,
  devices: 1,
  groupPages: 1,
  perm: 1,
  addr: 0x10000n,
  ...over,
});
