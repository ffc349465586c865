// AST → canonical filter text (parseFilter(formatFilter(e)) equals e).
import type { Expr, Value, ValueRange } from './ast';
import { fieldInfo, PERM_LETTERS, type FieldName } from './fields';

export function formatFilter(e: Expr): string {
  return e.kind === 'true' ? '' : fmt(e, 0);
}

// Precedence: 0 or, 1 and, 2 not/test.
function fmt(e: Expr, outer: number): string {
  switch (e.kind) {
    case 'true':
      return 'pages > 0';
    case 'or':
      return wrap(e.terms.map((t) => fmt(t, 1)).join(' || '), outer > 0);
    case 'and':
      return wrap(e.terms.map((t) => fmt(t, 2)).join(' && '), outer > 1);
    case 'not':
      return `!${fmt(e.term, 2)}`;
    case 'present':
    case 'flag':
      return e.field;
    case 'contains':
      return `perm contains "${permText(e.bits)}"`;
    case 'cmp':
      return `${e.all ? 'all ' : ''}${e.field} ${e.op} ${formatValue(e.field, e.value)}`;
    case 'in':
      return `${e.all ? 'all ' : ''}${e.field} in {${e.items.map((r) => item(e.field, r)).join(', ')}}`;
  }
}

function wrap(s: string, yes: boolean): string {
  return yes ? `(${s})` : s;
}

function item(field: FieldName, r: ValueRange): string {
  const lo = formatValue(field, r.lo);
  return r.lo === r.hi ? lo : `${lo}..${formatValue(field, r.hi)}`;
}

export function formatValue(field: FieldName, v: Value): string {
  const f = fieldInfo(field);
  switch (f.type) {
    case 'addr':
      return String(v);
    case 'perm':
      return `"${permText(Number(v))}"`;
    case 'enum':
      return f.values![Number(v)] ?? String(v);
    case 'duration':
      return formatNs(Number(v));
    default:
      return String(v);
  }
}

function permText(bits: number): string {
  const s = PERM_LETTERS.filter(([, b]) => bits & b)
    .map(([l]) => l)
    .join('');
  return s || '-';
}

function formatNs(ns: number): string {
  if (ns !== 0 && ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns !== 0 && ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns !== 0 && ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${ns}ns`;
}
