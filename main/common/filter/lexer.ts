// Filter text → tokens. Numbers keep their text (the parser converts them
// per field: 64-bit addresses need bigint); a unit glued to a number makes
// it a duration (5ms, 1.5us, 200µs).
import { FilterError } from './errors';

export type TokenKind = 'number' | 'duration' | 'string' | 'word' | 'punct' | 'end';

export interface Token {
  kind: TokenKind;
  /** The text as written (for a string: its contents, unquoted). */
  text: string;
  offset: number;
  length: number;
  /** duration: nanoseconds. */
  ns?: number;
}

const PUNCT = ['==', '!=', '<=', '>=', '&&', '||', '..', '<', '>', '!', '(', ')', '{', '}', ','];
const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };
const MISTAKES: Record<string, string> = {
  '=': "use '==' to compare",
  '&': "use '&&' (or 'and')",
  '|': "use '||' (or 'or')",
};

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isWordStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isWordChar = (c: string): boolean => /[A-Za-z0-9_µ]/.test(c);

/** Every token of `text`, ending with one 'end' token. Throws FilterError. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c)) {
      out.push(lexNumber(text, start));
    } else if (isWordStart(c)) {
      // Words may hold single dots (perm.x) but stop before '..'.
      i++;
      while (i < text.length) {
        if (isWordChar(text[i]!)) i++;
        else if (text[i] === '.' && text[i + 1] !== '.' && isWordStart(text[i + 1] ?? '')) i++;
        else break;
      }
      out.push({ kind: 'word', text: text.slice(start, i), offset: start, length: i - start });
    } else if (c === '"') {
      out.push(lexString(text, start));
    } else {
      const p = PUNCT.find((s) => text.startsWith(s, start));
      if (!p) {
        const hint = MISTAKES[c];
        throw new FilterError(hint ? `'${c}': ${hint}` : `unexpected character '${c}'`, start);
      }
      out.push({ kind: 'punct', text: p, offset: start, length: p.length });
    }
    i = start + out[out.length - 1]!.length;
  }
  out.push({ kind: 'end', text: '', offset: text.length, length: 0 });
  return out;
}

function lexNumber(text: string, start: number): Token {
  let i = start;
  if (text.startsWith('0x', i) || text.startsWith('0X', i)) {
    i += 2;
    while (i < text.length && /[0-9A-Fa-f]/.test(text[i]!)) i++;
    if (i === start + 2) throw new FilterError("expected hex digits after '0x'", start, 2);
  } else {
    while (i < text.length && isDigit(text[i]!)) i++;
    // A fraction only when a digit follows the dot: '1..4' is 1, '..', 4.
    if (text[i] === '.' && isDigit(text[i + 1] ?? '')) {
      i++;
      while (i < text.length && isDigit(text[i]!)) i++;
    }
  }
  const numEnd = i;
  while (i < text.length && isWordChar(text[i]!)) i++;
  const num = text.slice(start, numEnd);
  const unit = text.slice(numEnd, i);
  const whole = { text: text.slice(start, i), offset: start, length: i - start };
  if (unit === '') {
    if (num.includes('.')) {
      throw new FilterError(
        `'${num}' has a fraction: only durations (with a unit: ns, us, ms, s) may`,
        start,
        whole.length,
      );
    }
    return { kind: 'number', ...whole };
  }
  const scale = UNITS[unit];
  if (scale === undefined || num.startsWith('0x') || num.startsWith('0X')) {
    throw new FilterError(
      `'${whole.text}' is not a number or a duration (units: ns, us, µs, ms, s)`,
      start,
      whole.length,
    );
  }
  return { kind: 'duration', ...whole, ns: Math.round(Number(num) * scale) };
}

function lexString(text: string, start: number): Token {
  let i = start + 1;
  let value = '';
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\' && i + 1 < text.length) i++;
    value += text[i];
    i++;
  }
  if (i >= text.length) throw new FilterError('unterminated string', start, i - start);
  return { kind: 'string', text: value, offset: start, length: i + 1 - start };
}
