// Completion for the UI's filter box: what may come next at the cursor.
// A small state machine over the tokens before the cursor (it does not need
// the text to parse, only to lex); the word being typed filters the items.
import { FIELD_NAMES, fieldInfo, isFieldName, type FieldInfo } from './fields';
import { tokenize, type Token } from './lexer';
import type { ParseOptions } from './parser';

export interface Completion {
  /** Replace text[from, to) with the chosen item. */
  from: number;
  to: number;
  items: string[];
}

type State =
  | { at: 'operand' }
  | { at: 'quantified' }
  | { at: 'afterField'; f: FieldInfo }
  | { at: 'value'; f: FieldInfo }
  | { at: 'setOpen'; f: FieldInfo }
  | { at: 'setItem'; f: FieldInfo }
  | { at: 'setAfterItem'; f: FieldInfo }
  | { at: 'afterTest' }
  | { at: 'lost' };

const BOOL_OPS = ['&&', '||'];

export function completeFilter(text: string, cursor: number, opts: ParseOptions = {}): Completion {
  const before = text.slice(0, cursor);
  const partial = /[A-Za-z_][A-Za-z0-9_.µ]*$/.exec(before)?.[0] ?? '';
  const from = cursor - partial.length;
  // A word glued to a digit is a number's unit, not a name.
  if (partial && /[0-9]$/.test(before.slice(0, from))) return { from, to: cursor, items: [] };
  let toks: Token[];
  try {
    toks = tokenize(before.slice(0, from));
  } catch {
    return { from, to: cursor, items: [] };
  }
  let state: State = { at: 'operand' };
  let open = 0;
  for (const t of toks) {
    if (t.kind === 'end') break;
    if (t.text === '(' && t.kind === 'punct') open++;
    if (t.text === ')' && t.kind === 'punct') open = Math.max(0, open - 1);
    state = step(state, t);
  }
  const items = itemsFor(state, open, opts).filter((i) => i.startsWith(partial) && i !== partial);
  return { from, to: cursor, items };
}

function isBoolOp(t: Token): boolean {
  return (t.kind === 'punct' && BOOL_OPS.includes(t.text)) || t.text === 'and' || t.text === 'or';
}

function isValue(t: Token): boolean {
  return t.kind === 'number' || t.kind === 'duration' || t.kind === 'string' || t.kind === 'word';
}

function step(s: State, t: Token): State {
  switch (s.at) {
    case 'operand':
      if (t.text === '!' || t.text === 'not' || t.text === '(') return s;
      if (t.text === 'all' || t.text === 'any') return { at: 'quantified' };
      return t.kind === 'word' && isFieldName(t.text)
        ? { at: 'afterField', f: fieldInfo(t.text) }
        : { at: 'lost' };
    case 'quantified':
      return t.text === 'addr' ? { at: 'afterField', f: fieldInfo('addr') } : { at: 'lost' };
    case 'afterField':
      if (t.kind === 'punct' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text))
        return { at: 'value', f: s.f };
      if (t.text === 'contains') return { at: 'value', f: s.f };
      if (t.text === 'in') return { at: 'setOpen', f: s.f };
      return afterTest(t);
    case 'value':
      return isValue(t) ? { at: 'afterTest' } : { at: 'lost' };
    case 'setOpen':
      return t.text === '{' ? { at: 'setItem', f: s.f } : { at: 'lost' };
    case 'setItem':
      if (t.text === '}') return { at: 'afterTest' };
      return isValue(t) ? { at: 'setAfterItem', f: s.f } : { at: 'lost' };
    case 'setAfterItem':
      if (t.text === '}') return { at: 'afterTest' };
      if (t.text === ',' || t.text === '..') return { at: 'setItem', f: s.f };
      return isValue(t) ? s : { at: 'lost' };
    case 'afterTest':
      return afterTest(t);
    case 'lost':
      return s;
  }
}

function afterTest(t: Token): State {
  if (isBoolOp(t)) return { at: 'operand' };
  return t.text === ')' ? { at: 'afterTest' } : { at: 'lost' };
}

function itemsFor(s: State, open: number, opts: ParseOptions): string[] {
  const joiners = [...BOOL_OPS, ...(open > 0 ? [')'] : [])];
  switch (s.at) {
    case 'operand':
      return [
        ...FIELD_NAMES.filter((n) => !opts.readTimeOnly || fieldInfo(n).readTime),
        '!',
        '(',
        'not',
        'all',
      ];
    case 'quantified':
      return ['addr'];
    case 'afterField': {
      const f = s.f;
      const bare = f.type === 'flag' || f.optional ? joiners : [];
      switch (f.type) {
        case 'perm':
          return ['==', '!=', 'contains', 'in'];
        case 'flag':
          return ['==', '!=', ...bare];
        case 'enum':
          return ['==', '!=', 'in', ...bare];
        default:
          return ['==', '!=', '<', '<=', '>', '>=', 'in', ...bare];
      }
    }
    case 'value':
    case 'setItem':
      return valueItems(s.f);
    case 'setOpen':
      return ['{'];
    case 'setAfterItem':
      return [',', '}', ...(['uint', 'addr', 'duration'].includes(s.f.type) ? ['..'] : [])];
    case 'afterTest':
      return joiners;
    case 'lost':
      return [];
  }
}

function valueItems(f: FieldInfo): string[] {
  if (f.type === 'enum') return [...f.values!];
  if (f.type === 'flag') return ['true', 'false'];
  if (f.type === 'perm') return ['"r"', '"w"', '"x"', '"p"', '"rw"'];
  return [];
}
