// The contract's FaultFilter (the table filter, bulk answers, drains) as one
// filter expression: its structured fields and its `filter` text, all of
// which must hold. The structured fields keep their meaning in the language's
// multi-page terms: perm "rw" → perm contains "rw" (of the union), addrMin/
// addrMax → some page in the range, state → state == ... .
import type { FaultFilter } from '../contract';
import { GrammarError } from '../grammar-error';
import { and, type Expr } from './ast';
import { FilterError } from './errors';
import { FIELDS } from './fields';
import { parseFilter } from './parser';
import { parsePerm } from '../fault-record';

export function faultFilterExpr(f: FaultFilter): Expr {
  const terms: Expr[] = [];
  if (f.filter !== undefined) {
    try {
      terms.push(parseFilter(f.filter));
    } catch (err) {
      if (err instanceof FilterError) throw new GrammarError('filter', err.message);
      throw err;
    }
  }
  if (f.devId !== undefined) terms.push({ kind: 'cmp', field: 'dev', op: '==', value: f.devId });
  if (f.pasid !== undefined) terms.push({ kind: 'cmp', field: 'pasid', op: '==', value: f.pasid });
  if (f.perm) {
    const bits = parsePerm(f.perm);
    if (typeof bits === 'string') throw new GrammarError('filter', `perm: ${bits}`);
    terms.push({ kind: 'contains', field: 'perm', bits });
  }
  const lo = f.addrMin !== undefined ? `0x${BigInt(f.addrMin).toString(16)}` : undefined;
  const hi = f.addrMax !== undefined ? `0x${BigInt(f.addrMax).toString(16)}` : undefined;
  if (lo !== undefined && hi !== undefined) {
    terms.push({ kind: 'in', field: 'addr', items: [{ lo, hi }] });
  } else if (lo !== undefined) {
    terms.push({ kind: 'cmp', field: 'addr', op: '>=', value: lo });
  } else if (hi !== undefined) {
    terms.push({ kind: 'cmp', field: 'addr', op: '<=', value: hi });
  }
  if (f.state !== undefined) {
    const value = FIELDS.state.values.indexOf(f.state);
    terms.push({ kind: 'cmp', field: 'state', op: '==', value });
  }
  return and(...terms);
}
