// Evaluating a filter in TypeScript. compileFilter turns the AST into a tree
// of closures over a GroupFacts, built once per filter: evaluating a row
// reads the facts' accessors and allocates nothing, so the dashboard's
// columnar log can scan a million rows. matchGroup evaluates one plain
// object (tests, the CLI, the drain over pending groups).
import type { Expr, Value } from './ast';
import { FIELDS, type FieldName, type ScalarField } from './fields';

/**
 * Where a compiled filter reads a group's facts. `slot` is whatever the
 * implementation indexes groups by (a row in typed arrays, a list index).
 */
export interface GroupFacts {
  /**
   * The reader of one per-group field, asked once per field at compile time.
   * It returns NaN when the field is absent (pasid without PASID_VALID,
   * by/code/latency while pending). Values: perm as the union of the pages'
   * bits, enums by index in FIELDS[field].values, latency in ns.
   */
  scalar(field: ScalarField): (slot: number) => number;
  /** True when `test(addrHi, addrLo)` holds for some page of the group. */
  someAddr(slot: number, test: (hi: number, lo: number) => boolean): boolean;
}

export type CompiledFilter = (slot: number) => boolean;

export function compileFilter(e: Expr, facts: GroupFacts): CompiledFilter {
  switch (e.kind) {
    case 'true':
      return () => true;
    case 'and': {
      const terms = e.terms.map((t) => compileFilter(t, facts));
      return (s) => {
        for (const t of terms) if (!t(s)) return false;
        return true;
      };
    }
    case 'or': {
      const terms = e.terms.map((t) => compileFilter(t, facts));
      return (s) => {
        for (const t of terms) if (t(s)) return true;
        return false;
      };
    }
    case 'not': {
      const term = compileFilter(e.term, facts);
      return (s) => !term(s);
    }
    case 'present': {
      const get = facts.scalar(e.field);
      return (s) => !Number.isNaN(get(s));
    }
    case 'flag': {
      const bit = FIELDS[e.field].bit;
      const perm = facts.scalar('perm');
      return (s) => (perm(s) & bit) !== 0;
    }
    case 'contains': {
      const bits = e.bits;
      const perm = facts.scalar('perm');
      return (s) => (perm(s) & bits) === bits;
    }
    case 'cmp':
    case 'in':
      return e.field === 'addr' ? compileAddr(e, facts) : compileScalar(e, facts);
  }
}

type ValueTest = Extract<Expr, { kind: 'cmp' } | { kind: 'in' }>;

function compileScalar(e: ValueTest, facts: GroupFacts): CompiledFilter {
  const get = facts.scalar(e.field as ScalarField);
  if (e.kind === 'in') {
    const lo = e.items.map((r) => Number(r.lo));
    const hi = e.items.map((r) => Number(r.hi));
    const n = lo.length;
    return (s) => {
      const v = get(s);
      for (let i = 0; i < n; i++) if (v >= lo[i]! && v <= hi[i]!) return true;
      return false;
    };
  }
  const w = Number(e.value);
  // NaN (absent) compares false everywhere, '!=' included.
  switch (e.op) {
    case '==':
      return (s) => get(s) === w;
    case '!=':
      return (s) => {
        const v = get(s);
        return v === v && v !== w;
      };
    case '<':
      return (s) => get(s) < w;
    case '<=':
      return (s) => get(s) <= w;
    case '>':
      return (s) => get(s) > w;
    case '>=':
      return (s) => get(s) >= w;
  }
}

/** '0x…' → [hi, lo] u32 halves. */
export function addrHalves(v: Value): [number, number] {
  const b = BigInt(v);
  return [Number(b >> 32n), Number(b & 0xffffffffn)];
}

/** -1, 0, 1: page address (h, l) against (H, L). */
function cmp64(h: number, l: number, H: number, L: number): number {
  if (h !== H) return h < H ? -1 : 1;
  return l < L ? -1 : l > L ? 1 : 0;
}

function compileAddr(e: ValueTest, facts: GroupFacts): CompiledFilter {
  let page: (h: number, l: number) => boolean;
  if (e.kind === 'in') {
    const bounds = e.items.map((r) => [...addrHalves(r.lo), ...addrHalves(r.hi)] as const);
    page = (h, l) => {
      for (const [lh, ll, hh, hl] of bounds) {
        if (cmp64(h, l, lh, ll) >= 0 && cmp64(h, l, hh, hl) <= 0) return true;
      }
      return false;
    };
  } else {
    const [H, L] = addrHalves(e.value);
    const ok = {
      '==': (c: number) => c === 0,
      '!=': (c: number) => c !== 0,
      '<': (c: number) => c < 0,
      '<=': (c: number) => c <= 0,
      '>': (c: number) => c > 0,
      '>=': (c: number) => c >= 0,
    }[e.op];
    page = (h, l) => ok(cmp64(h, l, H, L));
  }
  if (!e.all) return (s) => facts.someAddr(s, page);
  const fails = (h: number, l: number): boolean => !page(h, l);
  return (s) => !facts.someAddr(s, fails);
}

// --- plain objects ---------------------------------------------------------

/** The parts of a decoded record a filter reads (FaultRecord has them all). */
export interface FilterRecord {
  flags: number;
  devId: number;
  pasid: number;
  grpid: number;
  perm: number;
  addrHi: number;
  addrLo: number;
  cookie: number;
}

/** A group as plain data: its records, and what is known after reading. */
export interface FilterGroup {
  records: readonly FilterRecord[];
  group?: number;
  /** Default 'pending'. */
  state?: (typeof FIELDS.state.values)[number];
  by?: (typeof FIELDS.by.values)[number] | null;
  latencyNs?: number | null;
}

const PASID_VALID = 1;

/** GroupFacts over a list of plain groups; the slot is the list index. */
export function groupListFacts(groups: readonly FilterGroup[]): GroupFacts {
  const first = (s: number): FilterRecord => groups[s]!.records[0]!;
  const readers: Record<ScalarField, (s: number) => number> = {
    dev: (s) => first(s).devId,
    pasid: (s) => (first(s).flags & PASID_VALID ? first(s).pasid : NaN),
    grpid: (s) => first(s).grpid,
    cookie: (s) => first(s).cookie,
    pages: (s) => groups[s]!.records.length,
    perm: (s) => groups[s]!.records.reduce((bits, r) => bits | r.perm, 0) >>> 0,
    group: (s) => groups[s]!.group ?? NaN,
    state: (s) => FIELDS.state.values.indexOf(groups[s]!.state ?? 'pending'),
    by: (s) => indexOrNaN(FIELDS.by.values, groups[s]!.by),
    code: (s) => indexOrNaN(FIELDS.code.values, groups[s]!.state),
    latency: (s) => groups[s]!.latencyNs ?? NaN,
  };
  return {
    scalar: (field) => readers[field],
    someAddr: (s, test) => groups[s]!.records.some((r) => test(r.addrHi >>> 0, r.addrLo >>> 0)),
  };
}

function indexOrNaN(values: readonly string[], v: string | null | undefined): number {
  const i = v == null ? -1 : values.indexOf(v);
  return i < 0 ? NaN : i;
}

/** Does one plain group match? (Compiles each call: for a few groups, not a scan.) */
export function matchGroup(e: Expr, group: FilterGroup): boolean {
  return compileFilter(e, groupListFacts([group]))(0);
}

/** The groups of `groups` that match, in order. */
export function filterGroups<G extends FilterGroup>(e: Expr, groups: readonly G[]): G[] {
  const test = compileFilter(e, groupListFacts(groups));
  return groups.filter((_, i) => test(i));
}

/** Fields whose value changes when a group is answered (a cached scan must be redone). */
export function readsAnswerState(fields: Iterable<FieldName>): boolean {
  for (const f of fields) if (!FIELDS[f].readTime && f !== 'group') return true;
  return false;
}
