// The parsed filter: plain JSON (no bigint, no class instances), so it
// crosses IPC and sits in a PolicySpec as is. Values are normalised by the
// parser: addr values are '0x…' lowercase hex strings, every other value a
// number (enum values by index in FIELDS[field].values, perm as bits,
// latency in nanoseconds).
import type { FieldName, OptionalField } from './fields';

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A number, or '0x…' hex for addr. */
export type Value = number | string;

export interface ValueRange {
  /** Inclusive bounds; lo === hi for a single value. */
  lo: Value;
  hi: Value;
}

export type Expr =
  /** Matches every group (the empty filter). */
  | { kind: 'true' }
  | { kind: 'and'; terms: Expr[] }
  | { kind: 'or'; terms: Expr[] }
  | { kind: 'not'; term: Expr }
  /** The bare name of an optional field: it has a value. */
  | { kind: 'present'; field: OptionalField }
  /** perm.r, perm.w, perm.x, perm.p: that permission is in the union. */
  | { kind: 'flag'; field: 'perm.r' | 'perm.w' | 'perm.x' | 'perm.p' }
  /** Some value of `field` compares true (every page's, with all: addr only). */
  | { kind: 'cmp'; field: FieldName; op: CmpOp; value: Value; all?: true }
  /** Some value of `field` lies in one of the ranges. */
  | { kind: 'in'; field: FieldName; items: ValueRange[]; all?: true }
  /** perm contains every bit of `bits`. */
  | { kind: 'contains'; field: 'perm'; bits: number };

export const TRUE: Expr = { kind: 'true' };

/** a && b && ..., flattened; `true` terms dropped. */
export function and(...terms: Expr[]): Expr {
  const flat = terms.flatMap((t) => (t.kind === 'and' ? t.terms : t.kind === 'true' ? [] : [t]));
  if (flat.length === 0) return TRUE;
  return flat.length === 1 ? flat[0]! : { kind: 'and', terms: flat };
}

/** Fields an expression reads, each once. */
export function fieldsOf(e: Expr, into = new Set<FieldName>()): Set<FieldName> {
  switch (e.kind) {
    case 'and':
    case 'or':
      for (const t of e.terms) fieldsOf(t, into);
      break;
    case 'not':
      fieldsOf(e.term, into);
      break;
    case 'true':
      break;
    default:
      into.add(e.field);
  }
  return into;
}
