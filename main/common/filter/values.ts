// One value token → the normalised AST value for a field (see ast.ts).
import { FilterError } from './errors';
import { PERM_LETTERS, type FieldInfo } from './fields';
import type { Token } from './lexer';
import type { Value } from './ast';

/** What a field's values look like, for "expected ..." messages. */
export function valueHint(f: FieldInfo): string {
  switch (f.type) {
    case 'uint':
      return 'a number';
    case 'addr':
      return 'an address';
    case 'perm':
      return 'permission letters like "rw"';
    case 'flag':
      return 'true or false';
    case 'enum':
      return `one of ${f.values!.join(', ')}`;
    case 'duration':
      return 'a duration like 5ms';
  }
}

/** The token is a value of some kind (not punctuation or the end). */
export function isValueToken(t: Token): boolean {
  return t.kind === 'number' || t.kind === 'duration' || t.kind === 'string' || t.kind === 'word';
}

export function parseValue(f: FieldInfo, t: Token): Value | boolean {
  const bad = (why: string): never => {
    throw new FilterError(why, t.offset, t.length);
  };
  const shown = t.kind === 'string' ? `"${t.text}"` : t.text;
  switch (f.type) {
    case 'uint':
    case 'addr': {
      if (t.kind === 'duration') bad(`${shown} is a duration: ${f.name} takes ${valueHint(f)}`);
      if (t.kind !== 'number') bad(`${f.name} takes ${valueHint(f)}, not ${shown}`);
      const v = BigInt(t.text.toLowerCase());
      if (v > f.max!)
        bad(`${shown} is out of range for ${f.name} (at most 0x${f.max!.toString(16)})`);
      return f.type === 'addr' ? `0x${v.toString(16)}` : Number(v);
    }
    case 'duration':
      if (t.kind === 'number')
        bad(`${f.name} needs a unit: ${t.text}ns, ${t.text}us, ${t.text}ms or ${t.text}s`);
      if (t.kind !== 'duration') bad(`${f.name} takes ${valueHint(f)}, not ${shown}`);
      return t.ns!;
    case 'flag':
      if (t.text === 'true' || t.text === '1') return true;
      if (t.text === 'false' || t.text === '0') return false;
      return bad(`${f.name} is true or false, not ${shown}`);
    case 'enum': {
      if (f.name === 'code' && t.kind === 'number' && (t.text === '0' || t.text === '1')) {
        return Number(t.text);
      }
      const i = t.kind === 'word' || t.kind === 'string' ? f.values!.indexOf(t.text) : -1;
      return i >= 0 ? i : bad(`${f.name} is ${valueHint(f)}, not ${shown}`);
    }
    case 'perm':
      if (t.kind !== 'word' && t.kind !== 'string') bad(`perm takes ${valueHint(f)}, not ${shown}`);
      return permBits(t);
  }
}

/** "rw" → 3; "" and "-" are the empty set. */
function permBits(t: Token): number {
  if (t.text === '' || t.text === '-') return 0;
  let bits = 0;
  for (const ch of t.text) {
    const entry = PERM_LETTERS.find(([l]) => l === ch);
    if (!entry) {
      throw new FilterError(
        `unknown permission letter '${ch}': use r, w, x (exec), p (priv)`,
        t.offset,
        t.length,
      );
    }
    if (bits & entry[1])
      throw new FilterError(`permission letter '${ch}' repeated`, t.offset, t.length);
    bits |= entry[1];
  }
  return bits;
}

/** Order two normalised values of one field (addr hex strings compare as bigint). */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === 'string' || typeof b === 'string') {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a - b;
}
