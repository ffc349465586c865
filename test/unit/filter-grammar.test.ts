// The display-filter language's grammar: each accepted form next to the
// mistakes around it, with the offset every error points at.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  completeFilter,
  FilterError,
  formatCaret,
  formatFilter,
  parseFilter,
  type Expr,
} from '../../main/common/filter';

/** Parses, and the canonical text parses back to the same AST. */
function canonical(text: string): string {
  const e = parseFilter(text);
  const out = formatFilter(e);
  assert.deepEqual(parseFilter(out), e, `'${out}' round-trips`);
  return out;
}

function problem(text: string, opts = {}): { message: string; offset: number; length: number } {
  try {
    parseFilter(text, opts);
  } catch (err) {
    assert.ok(err instanceof FilterError, `FilterError for '${text}', got ${String(err)}`);
    assert.equal(err.message, `${err.problem.message} at ${err.problem.offset}`);
    return err.problem;
  }
  assert.fail(`'${text}' was accepted`);
}

test('filter: the example from the brief parses to its canonical form', () => {
  assert.equal(
    canonical('dev==2 && pasid in {1..4} && !perm.x && latency > 1ms && by==policy'),
    'dev == 2 && pasid in {1..4} && !perm.x && latency > 1ms && by == policy',
  );
});

test('filter: the empty text matches everything; whitespace alone too', () => {
  assert.deepEqual(parseFilter(''), { kind: 'true' });
  assert.deepEqual(parseFilter('  \t'), { kind: 'true' });
  assert.equal(formatFilter({ kind: 'true' }), '');
});

for (const [text, want] of [
  // numbers: decimal and hex, normalised to decimal for ids, hex for addr
  ['dev == 0x10', 'dev == 16'],
  ['addr == 4096', 'addr == 0x1000'],
  ['addr >= 0XFFFFFFFFFFFFF000', 'addr >= 0xfffffffffffff000'],
  ['addr in {0x1000..0x1fff, 0x3000}', 'addr in {0x1000..0x1fff, 0x3000}'],
  ['all addr in {0x1000..0x1fff}', 'all addr in {0x1000..0x1fff}'],
  ['any addr < 0x2000', 'addr < 0x2000'],
  ['grpid != 3', 'grpid != 3'],
  ['cookie <= 7 && pages > 1', 'cookie <= 7 && pages > 1'],
  ['pasid in {1 2..3}', 'pasid in {1, 2..3}'],
  // words for operators
  ['dev == 1 and not pasid or perm.w', 'dev == 1 && !pasid || perm.w'],
  ['!(dev == 1 || dev == 2)', '!(dev == 1 || dev == 2)'],
  ['(dev == 1 || dev == 2) && pages == 1', '(dev == 1 || dev == 2) && pages == 1'],
  ['dev == 1 || dev == 2 && pages == 1', 'dev == 1 || dev == 2 && pages == 1'],
  ['!!perm.r', '!!perm.r'],
  // perm: letters in strings or bare, in any order; flags
  ['perm == "wr"', 'perm == "rw"'],
  ['perm contains w', 'perm contains "w"'],
  ['perm in {"r", "rw"}', 'perm in {"r", "rw"}'],
  ['perm == "-"', 'perm == "-"'],
  ['perm.x == false', '!perm.x'],
  ['perm.p != 0', 'perm.p'],
  ['perm.r == true', 'perm.r'],
  // state fields
  ['state == pending', 'state == pending'],
  ['state in {success, "invalid"}', 'state in {success, invalid}'],
  ['by != kernel', 'by != kernel'],
  ['code == 0', 'code == success'],
  ['latency in {1us..2.5ms}', 'latency in {1us..2500us}'],
  ['latency >= 200µs', 'latency >= 200us'],
  ['latency < 1s', 'latency < 1s'],
  ['latency', 'latency'],
  ['group > 1000', 'group > 1000'],
] as const) {
  test(`filter: accepts ${text}`, () => assert.equal(canonical(text), want));
}

for (const [text, message, offset, length] of [
  ['dev == 2 && pasid in {1..}', "expected a number after '..'", 23, 2],
  ['dev == 2 &&', "expected a test after '&&'", 9, 2],
  ['dev ==', "expected a number after '=='", 4, 2],
  ['dev = 1', "'=': use '==' to compare", 4, 1],
  ['dev == 1 & pages == 1', "'&': use '&&' (or 'and')", 9, 1],
  ['dev == 1 | pages == 1', "'|': use '||' (or 'or')", 9, 1],
  ['dev == 1 dev == 2', "expected '&&' or '||' before 'dev'", 9, 3],
  ['(dev == 1', "this '(' is not closed", 0, 1],
  ['(dev == 1 dev', "expected ')' or an operator before 'dev'", 10, 3],
  ['dev == 1)', "')' without a matching '('", 8, 1],
  ['devv == 1', 'unknown field', 0, 4],
  ['perm.z', 'unknown field', 0, 6],
  ['dev', 'dev needs a comparison, e.g. dev == 1', 0, 3],
  ['addr', 'addr needs a comparison, e.g. addr in {0x1000..0x1fff}', 0, 4],
  ['state', 'state needs a comparison, e.g. state == pending', 0, 5],
  ['dev == -1', "unexpected character '-'", 7, 1],
  ['dev == 4294967296', 'out of range for dev', 7, 10],
  ['dev == 1.5', "'1.5' has a fraction", 7, 3],
  ['dev == 5ms', '5ms is a duration: dev takes a number', 7, 3],
  ['dev == x', 'dev takes a number, not x', 7, 1],
  ['dev == 0x', "expected hex digits after '0x'", 7, 2],
  ['dev == 0x1g', "'0x1g' is not a number or a duration", 7, 4],
  ['latency > 5', 'latency needs a unit', 10, 1],
  ['latency > 5m', "'5m' is not a number or a duration", 10, 2],
  ['state < pending', "state compares with '==', '!=' or 'in', not '<'", 6, 1],
  ['state == done', 'state is one of pending, success, invalid, answered, not done', 9, 4],
  ['by == "users"', 'by is one of user, policy, drain, kernel, not "users"', 6, 7],
  ['code == 2', 'code is one of success, invalid, not 2', 8, 1],
  ['perm > "r"', "perm compares with '==', '!=', 'contains' or 'in', not '>'", 5, 1],
  ['perm == "rz"', "unknown permission letter 'z'", 8, 4],
  ['perm == "rr"', "permission letter 'r' repeated", 8, 4],
  ['perm.w == 2', 'perm.w is true or false, not 2', 10, 1],
  ['dev contains 1', "'contains' applies to perm, not dev", 4, 8],
  ['dev in 1', "expected '{' after 'in'", 4, 2],
  ['dev in {}', 'the set is empty', 7, 1],
  ['dev in {1,,2}', "expected a number after ','", 9, 1],
  ['dev in {,1}', "expected a number after '{'", 7, 1],
  ['dev in {1', "this '{' is not closed", 7, 1],
  ['dev in {3..1}', 'the range ends below its start', 8, 4],
  ['state in {pending..success}', 'ranges (a..b) apply to numbers', 17, 2],
  ['all dev == 1', "'all' applies to addr only", 4, 3],
  ['all', 'expected a test after', 0, 3],
  ['&& dev == 1', "expected a field name, '!' or '(', found '&&'", 0, 2],
  ['dev == "1', 'unterminated string', 7, 2],
  ['!', "expected a test after '!'", 0, 1],
  ['dev == 1 || in', "expected a field name, '!' or '(', found 'in'", 12, 2],
] as const) {
  test(`filter: rejects ${text} (${message} at ${offset})`, () => {
    const p = problem(text);
    assert.ok(p.message.includes(message), `'${p.message}' includes '${message}'`);
    assert.deepEqual([p.offset, p.length], [offset, length]);
  });
}

test('filter: caret formatting underlines the offending token', () => {
  const text = 'dev == 2 && pasid in {1..}';
  const p = problem(text);
  assert.equal(
    formatCaret(text, p),
    "dev == 2 && pasid in {1..}\n                       ^^ expected a number after '..'",
  );
  assert.equal(String(new FilterError('x', 3)), 'FilterError: x at 3');
});

test('filter: nesting is bounded (no stack overflow on hostile input)', () => {
  const deep = `${'('.repeat(64)}dev == 1${')'.repeat(64)}`;
  assert.match(problem(deep).message, /nests deeper than 64/);
  const ok = `${'('.repeat(60)}dev == 1${')'.repeat(60)}`;
  assert.deepEqual(parseFilter(ok), parseFilter('dev == 1'));
  const long = Array.from({ length: 5000 }, (_, i) => `dev == ${i}`).join(' || ');
  assert.equal((parseFilter(long) as Extract<Expr, { kind: 'or' }>).terms.length, 5000);
});

test('filter: a policy may use read-time fields only, and the error names the field', () => {
  for (const [text, field, offset] of [
    ['dev == 1 && state == pending', 'state', 12],
    ['by == policy', 'by', 0],
    ['code == 0', 'code', 0],
    ['latency > 1ms', 'latency', 0],
    ['!(group == 1)', 'group', 2],
  ] as const) {
    const p = problem(text, { readTimeOnly: true });
    assert.match(p.message, new RegExp(`a policy cannot use '${field}'`));
    assert.equal(p.offset, offset);
    assert.doesNotThrow(() => parseFilter(text), 'fine for the table');
  }
  assert.doesNotThrow(() =>
    parseFilter(
      'dev == 1 && pasid && grpid == 2 && cookie > 3 && pages < 4 && addr == 0 && perm.w',
      {
        readTimeOnly: true,
      },
    ),
  );
});

test('filter: completion offers what may come next at the cursor', () => {
  const at = (text: string, cursor = text.length) => completeFilter(text, cursor);
  assert.ok(at('').items.includes('dev'));
  assert.ok(at('').items.includes('('));
  assert.deepEqual(at('dev == 1 && pe'), {
    from: 12,
    to: 14,
    items: ['perm', 'perm.r', 'perm.w', 'perm.x', 'perm.p'],
  });
  assert.deepEqual(at('by == ').items, ['user', 'policy', 'drain', 'kernel']);
  assert.deepEqual(at('state in {pending, ').items, ['pending', 'success', 'invalid', 'answered']);
  assert.deepEqual(at('dev ').items, ['==', '!=', '<', '<=', '>', '>=', 'in']);
  assert.deepEqual(at('perm ').items, ['==', '!=', 'contains', 'in']);
  assert.deepEqual(at('pasid ').items, ['==', '!=', '<', '<=', '>', '>=', 'in', '&&', '||']);
  assert.deepEqual(at('(perm.x ').items, ['==', '!=', '&&', '||', ')']);
  assert.deepEqual(at('dev == 1 ').items, ['&&', '||']);
  assert.deepEqual(at('dev in ').items, ['{']);
  assert.deepEqual(at('latency > 5m').items, [], 'a unit is being typed, not a name');
  assert.deepEqual(at('dev in {1 ').items, [',', '}', '..']);
  assert.deepEqual(at('all ').items, ['addr']);
  assert.deepEqual(at('dev == 1 && ', 3), { from: 0, to: 3, items: [] }, 'dev is complete');
  assert.deepEqual(at('dev = ').items, [], 'text that does not lex offers nothing');
  const policy = completeFilter('', 0, { readTimeOnly: true }).items;
  assert.ok(policy.includes('addr') && !policy.includes('state') && !policy.includes('latency'));
});
