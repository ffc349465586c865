// Recursive-descent parser for the display-filter language (see README,
// "Filters and rules"):
//   expr    := and (('||' | 'or') and)*
//   and     := unary (('&&' | 'and') unary)*
//   unary   := ('!' | 'not') unary | '(' expr ')' | test
//   test    := ['all' | 'any'] field [op value | 'in' set | 'contains' value]
//   set     := '{' item ([','] item)* '}'      item := value ['..' value]
// Fields and their types are in fields.ts; values are normalised (ast.ts).
import { and, TRUE, type CmpOp, type Expr, type ValueRange } from './ast';
import { FilterError } from './errors';
import { FIELD_NAMES, fieldInfo, isFieldName, type FieldInfo, type OptionalField } from './fields';
import { tokenize, type Token } from './lexer';
import { compareValues, isValueToken, parseValue, valueHint } from './values';

export interface ParseOptions {
  /**
   * For a policy: only fields known when the group is read are allowed
   * (state, by, code, latency and group are refused, naming the field).
   */
  readTimeOnly?: boolean;
}

export const MAX_DEPTH = 64;
const CMP_OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];
const KEYWORDS = ['and', 'or', 'not', 'in', 'contains', 'all', 'any'];

/** Parse filter text; the empty text matches everything. Throws FilterError. */
export function parseFilter(text: string, opts: ParseOptions = {}): Expr {
  return new Parser(tokenize(text), opts).parseAll();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly toks: Token[],
    private readonly opts: ParseOptions,
  ) {}

  parseAll(): Expr {
    if (this.peek().kind === 'end') return TRUE;
    const e = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'end') {
      if (t.text === ')') throw this.err("')' without a matching '('", t);
      throw this.err(`expected '&&' or '||' before '${t.text}'`, t);
    }
    return e;
  }

  private peek(): Token {
    return this.toks[this.pos]!;
  }

  private next(): Token {
    const t = this.toks[this.pos]!;
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  private is(t: Token, punct: string, word?: string): boolean {
    return (
      (t.kind === 'punct' && t.text === punct) ||
      (word !== undefined && t.kind === 'word' && t.text === word)
    );
  }

  private err(message: string, t: Token): FilterError {
    return new FilterError(message, t.offset, t.length);
  }

  private parseOr(): Expr {
    const terms = [this.parseAnd()];
    while (this.is(this.peek(), '||', 'or')) {
      this.next();
      terms.push(this.parseAnd());
    }
    return terms.length === 1 ? terms[0]! : { kind: 'or', terms };
  }

  private parseAnd(): Expr {
    const terms = [this.parseUnary()];
    while (this.is(this.peek(), '&&', 'and')) {
      this.next();
      terms.push(this.parseUnary());
    }
    return terms.length === 1 ? terms[0]! : and(...terms);
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (++this.depth > MAX_DEPTH) throw this.err(`the filter nests deeper than ${MAX_DEPTH}`, t);
    try {
      if (this.is(t, '!', 'not')) {
        this.next();
        return { kind: 'not', term: this.parseUnary() };
      }
      if (this.is(t, '(')) {
        this.next();
        const e = this.parseOr();
        const close = this.peek();
        if (!this.is(close, ')')) {
          if (close.kind === 'end') throw this.err("this '(' is not closed", t);
          throw this.err(`expected ')' or an operator before '${close.text}'`, close);
        }
        this.next();
        return e;
      }
      return this.parseTest();
    } finally {
      this.depth--;
    }
  }

  /** The token before the current one (what a missing operand follows). */
  private prev(): Token | undefined {
    return this.pos > 0 ? this.toks[this.pos - 1] : undefined;
  }

  private parseTest(): Expr {
    let t = this.peek();
    let quant: 'all' | 'any' | undefined;
    if (t.kind === 'word' && (t.text === 'all' || t.text === 'any')) {
      quant = t.text;
      this.next();
      t = this.peek();
    }
    if (t.kind !== 'word' || KEYWORDS.includes(t.text)) {
      const p = this.prev();
      if (t.kind === 'end' && p) throw this.err(`expected a test after '${p.text}'`, p);
      const found = t.kind === 'end' ? 'the end' : `'${t.text}'`;
      throw this.err(`expected a field name, '!' or '(', found ${found}`, t);
    }
    if (!isFieldName(t.text)) {
      throw this.err(`unknown field '${t.text}' (fields: ${FIELD_NAMES.join(', ')})`, t);
    }
    const f = fieldInfo(t.text);
    if (this.opts.readTimeOnly && !f.readTime) {
      throw this.err(
        f.name === 'group'
          ? "a policy cannot use 'group': it is iommuscope's sequence number, not part of the request"
          : `a policy cannot use '${f.name}': it is only known after the group is answered, and a policy decides when it is read`,
        t,
      );
    }
    if (quant && f.type !== 'addr') {
      throw this.err(`'${quant}' applies to addr only (the one field with a value per page)`, t);
    }
    const fieldTok = this.next();
    const all = quant === 'all' ? ({ all: true } as const) : {};
    const op = this.peek();
    if (op.kind === 'punct' && CMP_OPS.includes(op.text)) {
      this.next();
      return this.comparison(f, op, all);
    }
    if (op.kind === 'word' && op.text === 'in') {
      this.next();
      return { kind: 'in', field: f.name, items: this.parseSet(f, op), ...all };
    }
    if (op.kind === 'word' && op.text === 'contains') {
      if (f.type !== 'perm') throw this.err(`'contains' applies to perm, not ${f.name}`, op);
      this.next();
      return { kind: 'contains', field: 'perm', bits: this.value(f, op) as number };
    }
    if (f.type === 'flag') return { kind: 'flag', field: f.name as 'perm.r' };
    if (f.optional) return { kind: 'present', field: f.name as OptionalField };
    throw this.err(
      `${quant ? `${quant} ` : ''}${f.name} needs a comparison, e.g. ${example(f)}`,
      fieldTok,
    );
  }

  private comparison(f: FieldInfo, op: Token, all: { all?: true }): Expr {
    const cmp = op.text as CmpOp;
    const ordered = cmp !== '==' && cmp !== '!=';
    if (ordered && (f.type === 'perm' || f.type === 'flag' || f.type === 'enum')) {
      const ops = f.type === 'perm' ? "'==', '!=', 'contains' or 'in'" : "'==', '!=' or 'in'";
      throw this.err(`${f.name} compares with ${ops}, not '${cmp}'`, op);
    }
    const v = this.value(f, op);
    if (typeof v === 'boolean') {
      const flag: Expr = { kind: 'flag', field: f.name as 'perm.r' };
      return v === (cmp === '==') ? flag : { kind: 'not', term: flag };
    }
    return { kind: 'cmp', field: f.name, op: cmp, value: v, ...all };
  }

  /** The value after `after` (an operator, 'in', '{', ',' or '..'). */
  private value(f: FieldInfo, after: Token) {
    const t = this.peek();
    if (!isValueToken(t)) throw this.err(`expected ${valueHint(f)} after '${after.text}'`, after);
    this.next();
    return parseValue(f, t);
  }

  private parseSet(f: FieldInfo, inTok: Token): ValueRange[] {
    const open = this.peek();
    if (f.type === 'flag')
      throw this.err(`${f.name} is true or false: use it alone or with '=='`, inTok);
    if (!this.is(open, '{'))
      throw this.err("expected '{' after 'in', e.g. dev in {1, 3..5}", inTok);
    this.next();
    const items: ValueRange[] = [];
    let after = open;
    for (;;) {
      const t = this.peek();
      if (this.is(t, '}')) {
        if (items.length === 0) throw this.err('the set is empty', open);
        this.next();
        return items;
      }
      if (t.kind === 'end') throw this.err("this '{' is not closed", open);
      // One comma between items (optional, as in Wireshark: {1 2} is {1, 2}).
      if (items.length > 0 && this.is(t, ',') && !this.is(after, ',')) {
        after = this.next();
        continue;
      }
      const lo = this.value(f, after) as number | string;
      let hi = lo;
      const dots = this.peek();
      if (this.is(dots, '..')) {
        if (f.type !== 'uint' && f.type !== 'addr' && f.type !== 'duration') {
          throw this.err(
            `ranges (a..b) apply to numbers, addresses and durations, not ${f.name}`,
            dots,
          );
        }
        this.next();
        hi = this.value(f, dots) as number | string;
        if (compareValues(hi, lo) < 0) {
          throw new FilterError(
            'the range ends below its start',
            t.offset,
            this.prev()!.offset + this.prev()!.length - t.offset,
          );
        }
      }
      items.push({ lo, hi });
      after = this.prev()!;
    }
  }
}

function example(f: FieldInfo): string {
  switch (f.type) {
    case 'addr':
      return `${f.name} in {0x1000..0x1fff}`;
    case 'perm':
      return 'perm contains "w"';
    case 'enum':
      return `${f.name} == ${f.values![0]}`;
    case 'duration':
      return `${f.name} > 1ms`;
    default:
      return `${f.name} == 1`;
  }
}
