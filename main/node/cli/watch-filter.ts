// `watch --filter TEXT`: which lines of a batch to print. The filter is the
// display-filter language (README "Filters and rules"), compiled once over a
// single mutable view of "the group being decided", so deciding a group
// reads typed-array columns and allocates nothing.
//
// A group's fault line is printed when the group matches as read (pending:
// state == pending, by/code/latency absent); its answer line when its fault
// line was printed, or when it matches as answered (so `by == policy` or
// `latency > 1ms` print the answers that match). Groups whose records were
// left out of the batch (overflow) have no fields to test and match only the
// empty filter. Only pending groups are remembered (bounded by what the
// device may have outstanding), and facts of unprinted groups only when the
// filter reads answer fields.
import { compileFilter, readsAnswerState, type CompiledFilter } from '../../common/filter/evaluate';
import { fieldsOf, type Expr } from '../../common/filter/ast';
import type { ScalarField } from '../../common/filter/fields';
import { FaultFlag } from '../../common/fault-record';
import { RECORDS_LEFT_OUT, type DecodedBatch } from '../session/decode-batch';

/** Which read groups and which answers of one batch to print (1 = print). */
export interface BatchSelection {
  read: Uint8Array;
  answered: Uint8Array;
}

interface GroupView {
  dev: number;
  pasid: number;
  grpid: number;
  cookie: number;
  pages: number;
  perm: number;
  group: number;
  state: number;
  by: number;
  code: number;
  latency: number;
  addrHi: Uint32Array;
  addrLo: Uint32Array;
  addrFrom: number;
  addrTo: number;
}

/** What is kept of a pending group the filter may still match once answered. */
type HeldGroup = Omit<GroupView, 'state' | 'by' | 'code' | 'latency'>;

const STATE_PENDING = 0;
/** FIELDS.state.values: success = 1, invalid = 2 (answer code + 1). */
const stateOfCode = (code: number): number => (code === 0 ? 1 : code === 1 ? 2 : 3);

export class WatchFilter {
  private readonly view: GroupView = {
    dev: 0,
    pasid: NaN,
    grpid: 0,
    cookie: 0,
    pages: 0,
    perm: 0,
    group: 0,
    state: STATE_PENDING,
    by: NaN,
    code: NaN,
    latency: NaN,
    addrHi: new Uint32Array(0),
    addrLo: new Uint32Array(0),
    addrFrom: 0,
    addrTo: 0,
  };
  private readonly test: CompiledFilter;
  private readonly answerFields: boolean;
  /** The empty filter: every group, records left out or not. */
  private readonly matchAll: boolean;
  /** Pending groups whose fault line was printed. */
  private readonly shown = new Set<number>();
  /** Pending groups not printed yet, kept only when answer fields can still make them match. */
  private readonly held = new Map<number, HeldGroup>();

  constructor(expr: Expr) {
    this.answerFields = readsAnswerState(fieldsOf(expr));
    this.matchAll = expr.kind === 'true';
    const v = this.view;
    this.test = compileFilter(expr, {
      scalar: (field: ScalarField) => (): number => v[field],
      someAddr: (_slot, test) => {
        for (let k = v.addrFrom; k < v.addrTo; k++) {
          if (test(v.addrHi[k]!, v.addrLo[k]!)) return true;
        }
        return false;
      },
    });
  }

  /** Pending groups remembered (for tests: it must fall back to 0 once all are answered). */
  get remembered(): number {
    return this.shown.size + this.held.size;
  }

  select(b: DecodedBatch): BatchSelection {
    const r = b.read;
    const read = new Uint8Array(r.count);
    const v = this.view;
    const cols =
      b.count > 0
        ? {
            flags: b.flags,
            devId: b.devId,
            pasid: b.pasid,
            grpid: b.grpid,
            perm: b.perm,
            addrHi: b.addrHi,
            addrLo: b.addrLo,
          }
        : undefined;
    for (let i = 0; i < r.count; i++) {
      const first = r.first[i]!;
      if (first === RECORDS_LEFT_OUT || !cols) {
        if (this.matchAll) {
          read[i] = 1;
          this.shown.add(r.group[i]!);
        }
        continue;
      }
      const end = Math.min(first + r.pages[i]!, b.count);
      let perm = 0;
      for (let k = first; k < end; k++) perm |= cols.perm[k]!;
      v.dev = cols.devId[first]!;
      v.pasid = cols.flags[first]! & FaultFlag.PasidValid ? cols.pasid[first]! : NaN;
      v.grpid = cols.grpid[first]!;
      v.cookie = r.cookie[i]!;
      v.pages = r.pages[i]!;
      v.perm = perm >>> 0;
      v.group = r.group[i]!;
      v.state = STATE_PENDING;
      v.by = v.code = v.latency = NaN;
      v.addrHi = cols.addrHi;
      v.addrLo = cols.addrLo;
      v.addrFrom = first;
      v.addrTo = end;
      if (this.test(0)) {
        read[i] = 1;
        this.shown.add(v.group);
      } else if (this.answerFields) {
        this.held.set(v.group, {
          dev: v.dev,
          pasid: v.pasid,
          grpid: v.grpid,
          cookie: v.cookie,
          pages: v.pages,
          perm: v.perm,
          group: v.group,
          addrHi: cols.addrHi.slice(first, end),
          addrLo: cols.addrLo.slice(first, end),
          addrFrom: 0,
          addrTo: end - first,
        });
      }
    }
    const a = b.answered;
    const answered = new Uint8Array(a.count);
    for (let i = 0; i < a.count; i++) {
      const g = a.group[i]!;
      if (this.shown.delete(g)) {
        answered[i] = 1;
        continue;
      }
      const h = this.held.get(g);
      if (!h) continue;
      this.held.delete(g);
      Object.assign(v, h);
      v.state = stateOfCode(a.code[i]!);
      v.code = a.code[i]! <= 1 ? a.code[i]! : NaN;
      v.by = a.by[i]!;
      v.latency = a.latencyNs[i]!;
      if (this.test(0)) answered[i] = 1;
    }
    return { read, answered };
  }
}
