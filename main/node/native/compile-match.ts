// Filter AST (main/common/filter) → the native matcher's postfix program
// (NativeMatch). Every comparison on a number becomes "some value lies in
// these ranges", so the native side has one test per field: '!= v' is
// [0, v-1] ∪ [v+1, max], which keeps "absent compares false" for pasid.
import type { CmpOp, Expr, ValueRange } from '../../common/filter/ast';
import { FIELDS, type FieldName } from '../../common/filter/fields';
import type { NativeMatch, NativeMatchField, NativeMatchOp } from './addon-types';

const NATIVE_FIELDS: readonly string[] = [
  'dev',
  'pasid',
  'grpid',
  'cookie',
  'addr',
  'pages',
  'perm',
];
/** The native stack is one 64-bit word. */
export const NATIVE_MAX_DEPTH = 64;

export class MatchCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatchCompileError';
  }
}

export function compileNativeMatch(e: Expr): NativeMatch {
  const ops: NativeMatchOp[] = [];
  let depth = 0;
  let maxDepth = 0;
  const push = (op: NativeMatchOp, pops = 0): void => {
    ops.push(op);
    depth = depth - pops + 1;
    maxDepth = Math.max(maxDepth, depth);
  };
  const emit = (x: Expr): void => {
    switch (x.kind) {
      case 'true':
        return push({ op: 'true' });
      case 'and':
      case 'or':
        emit(x.terms[0]!);
        for (const t of x.terms.slice(1)) {
          emit(t);
          push({ op: x.kind }, 2);
        }
        return;
      case 'not':
        emit(x.term);
        return push({ op: 'not' }, 1);
      case 'present':
        return push({ op: 'present', field: nativeField(x.field) as 'pasid' });
      case 'flag': {
        const bit = FIELDS[x.field].bit;
        return push({ op: 'bits', mask: bit, want: bit });
      }
      case 'contains':
        return push({ op: 'bits', mask: x.bits, want: x.bits });
      case 'cmp':
      case 'in': {
        const field = nativeField(x.field);
        const max = FIELDS[field].max;
        const ranges =
          x.kind === 'in' ? mergeRanges(x.items.map(toBig)) : cmpRanges(x.op, BigInt(x.value), max);
        return push({ op: 'in', field, ranges, ...(x.all ? { all: true } : {}) });
      }
    }
  };
  emit(e);
  if (maxDepth > NATIVE_MAX_DEPTH) {
    throw new MatchCompileError(
      `the filter nests too deeply for the native matcher (${maxDepth} > ${NATIVE_MAX_DEPTH})`,
    );
  }
  return { ops };
}

function nativeField(f: FieldName): NativeMatchField {
  if (!NATIVE_FIELDS.includes(f)) {
    throw new MatchCompileError(
      `a policy cannot use '${f}': only ${NATIVE_FIELDS.join(', ')} and perm.r/w/x/p are known when a group is read`,
    );
  }
  return f as NativeMatchField;
}

function toBig(r: ValueRange): [bigint, bigint] {
  return [BigInt(r.lo), BigInt(r.hi)];
}

/** The values v of [0, max] with `v op w`, as inclusive ranges. */
function cmpRanges(op: CmpOp, w: bigint, max: bigint): [bigint, bigint][] {
  const below: [bigint, bigint][] = w > 0n ? [[0n, w - 1n]] : [];
  const above: [bigint, bigint][] = w < max ? [[w + 1n, max]] : [];
  switch (op) {
    case '==':
      return [[w, w]];
    case '!=':
      return [...below, ...above];
    case '<':
      return below;
    case '<=':
      return [[0n, w]];
    case '>':
      return above;
    case '>=':
      return [[w, max]];
  }
}

/** Sorted, overlapping and adjacent ranges joined. */
function mergeRanges(rs: [bigint, bigint][]): [bigint, bigint][] {
  const sorted = [...rs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) {
      if (hi > last[1]) last[1] = hi;
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}
