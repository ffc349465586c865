// GroupFacts over fault table rows (the contract's FaultRow), for filters
// evaluated where only rows are at hand: the renderer's colouring rules. A
// row carries its first page's address only, so `addr` tests that page (the
// core's filter also sees the group's other pages).
import type { FaultRow } from '../contract';
import type { GroupFacts } from './evaluate';
import { FIELDS, type ScalarField } from './fields';

function index(values: readonly string[], v: string | null): number {
  const i = v === null ? -1 : values.indexOf(v);
  return i < 0 ? NaN : i;
}

/** Facts of `rows()[slot]`; `rows` is read at evaluation time (one compile, many rows). */
export function faultRowFacts(rows: () => readonly FaultRow[]): GroupFacts {
  const at = (s: number): FaultRow => rows()[s]!;
  const readers: Record<ScalarField, (s: number) => number> = {
    dev: (s) => at(s).devId,
    pasid: (s) => at(s).pasid ?? NaN,
    grpid: (s) => at(s).grpid,
    cookie: (s) => at(s).cookie,
    pages: (s) => at(s).pages,
    perm: (s) => at(s).perm,
    group: (s) => Number(at(s).group),
    state: (s) => index(FIELDS.state.values, at(s).state),
    by: (s) => index(FIELDS.by.values, at(s).by),
    code: (s) => (at(s).state === 'pending' ? NaN : index(FIELDS.code.values, at(s).state)),
    latency: (s) => (at(s).latencyUs === null ? NaN : at(s).latencyUs! * 1e3),
  };
  return {
    scalar: (field) => readers[field],
    someAddr(s, test) {
      const v = BigInt(at(s).addr);
      return test(Number(v >> 32n), Number(v & 0xffffffffn));
    },
  };
}
