// The native matcher's postfix program (NativeMatch, see addon-types.ts)
// evaluated in TypeScript, for the fake queue: the same program the addon
// runs, so fake-backed tests see the policy semantics the reader thread has.
import type { NativeMatch, NativeMatchField } from '../../main/node/native/addon-types';

/** A group as the matcher sees it. */
export interface MatchableGroup {
  devId: number;
  /** 0xffffffff when the group has no PASID. */
  pasid: number;
  grpid: number;
  cookie: number;
  pages: number;
  perm: number;
  addrs: bigint[];
}

const NO_PASID = 0xffffffff;

function values(g: MatchableGroup, field: NativeMatchField): bigint[] {
  switch (field) {
    case 'dev':
      return [BigInt(g.devId)];
    case 'pasid':
      return g.pasid === NO_PASID ? [] : [BigInt(g.pasid)];
    case 'grpid':
      return [BigInt(g.grpid)];
    case 'cookie':
      return [BigInt(g.cookie)];
    case 'pages':
      return [BigInt(g.pages)];
    case 'perm':
      return [BigInt(g.perm)];
    case 'addr':
      return g.addrs;
  }
}

export function evalNativeMatch(m: NativeMatch, g: MatchableGroup): boolean {
  const stack: boolean[] = [];
  const pop = (): boolean => {
    const v = stack.pop();
    if (v === undefined) throw new Error('native match program underflows its stack');
    return v;
  };
  for (const op of m.ops) {
    switch (op.op) {
      case 'true':
        stack.push(true);
        break;
      case 'and': {
        const b = pop();
        stack.push(pop() && b);
        break;
      }
      case 'or': {
        const b = pop();
        stack.push(pop() || b);
        break;
      }
      case 'not':
        stack.push(!pop());
        break;
      case 'present':
        stack.push(g.pasid !== NO_PASID);
        break;
      case 'in': {
        const vs = values(g, op.field);
        const inside = (v: bigint): boolean => op.ranges.some(([lo, hi]) => v >= lo && v <= hi);
        stack.push(op.all ? vs.length > 0 && vs.every(inside) : vs.some(inside));
        break;
      }
      case 'bits':
        stack.push((g.perm & op.mask) === op.want);
        break;
    }
  }
  if (stack.length !== 1) throw new Error('native match program must leave exactly one value');
  return stack[0]!;
}
