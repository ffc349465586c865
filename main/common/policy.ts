// Automatic-answer policy: what the native reader does with each complete
// group without waiting on JS. Two inputs produce the same PolicySpec:
//   --policy success|invalid|hold|map|delay=5ms[:invalid]
//   --policy @rules.json, read by the caller and given to parsePolicyRules:
//     { "rules": [ { "match": "dev == 1 && pasid in {1..8} && !perm.x", "action": "invalid" },
//                  { "dev": 1, "pasid": "1-8", "addr": "0x1000-0x1fff",
//                    "perm": "w", "notPerm": "x", "action": "invalid" } ],
//       "default": "success" }
//   Rules are tried in order, first match wins. "match" is a filter in the
//   display-filter language (main/common/filter), limited to the fields known
//   when a group is read. The older keys remain, each compiled to the same
//   language: dev → dev == N, pasid "A-B" → pasid in {A..B}, addr "A-B" →
//   all addr in {A..B} (every page in the range, as before), perm "rw" →
//   perm contains "rw", notPerm "x" → !perm.x. All given keys must hold.
//   Without "default", unmatched groups are answered invalid.
// PolicySpec is serialisable (the AST is plain JSON, addresses hex strings).
import { didYouMean } from './suggest';
import { GrammarError } from './grammar-error';
import { parsePerm } from './fault-record';
import { PASID_MAX } from './inject';
import { parseDurationNs, parseHexRange, parseUint, parseUintRange } from './parse-values';
import { and, type Expr } from './filter/ast';
import { FilterError } from './filter/errors';
import { PERM_LETTERS } from './filter/fields';
import { formatFilter } from './filter/format';
import { parseFilter } from './filter/parser';
import type { FaultSourceKind } from './iommufd-objects';

export type PolicyAction =
  | { kind: 'hold' }
  | { kind: 'success' }
  | { kind: 'invalid' }
  | { kind: 'map' }
  /** Answer after `ns` nanoseconds with `code` (0 success, 1 invalid). */
  | { kind: 'delay'; ns: number; code: 0 | 1 };

export interface PolicyRule {
  /** Which groups the rule answers (read-time fields only). */
  match: Expr;
  action: PolicyAction;
}

export interface PolicySpec {
  rules: PolicyRule[];
  /** Used when no rule matches. */
  fallback: PolicyAction;
}

export const POLICY_USAGE =
  'success|invalid|hold|map|delay=<n>(ns|us|ms|s)[:success|:invalid]|@rules.json';
export const POLICY_MAX_DELAY_NS = 60e9;

/** True when any rule (or the default) of `spec` maps pages. */
export function policyUsesMap(spec: PolicySpec): boolean {
  return spec.fallback.kind === 'map' || spec.rules.some((r) => r.action.kind === 'map');
}

/**
 * Why `spec` cannot run on `source`, or null. The simulator has no IOAS, so
 * it cannot map a page; it refuses 'map' up front rather than pretend.
 */
export function policyProblemFor(spec: PolicySpec, source: FaultSourceKind | null): string | null {
  if (source === 'sim' && policyUsesMap(spec)) {
    return (
      "'map' maps a page into the session's IOAS and the simulator has none: " +
      'use map with --source mock or iommufd, or answer sim groups with success, invalid, hold or delay=…'
    );
  }
  return null;
}

/** Parse one action word; returns the action or an error message. */
export function parseAction(text: string): PolicyAction | string {
  switch (text) {
    case 'hold':
    case 'success':
    case 'invalid':
    case 'map':
      return { kind: text };
  }
  const m = /^delay=([^:]*)(?::(.*))?$/.exec(text);
  if (!m) {
    const hint = didYouMean(text.split(/[=:]/)[0]!, ['hold', 'success', 'invalid', 'map', 'delay']);
    return `unknown action '${text}'${hint} (expected ${POLICY_USAGE})`;
  }
  const ns = parseDurationNs(m[1] ?? '', 'delay', POLICY_MAX_DELAY_NS);
  if (!ns.ok) return ns.error;
  const codeWord = m[2] ?? 'success';
  if (codeWord !== 'success' && codeWord !== 'invalid') {
    return `delay answer '${codeWord}' must be success or invalid`;
  }
  return { kind: 'delay', ns: ns.value, code: codeWord === 'success' ? 0 : 1 };
}

/** `--policy WORD` (not the @file form): one action for every group. */
export function parsePolicy(text: string): PolicySpec {
  const action = parseAction(text);
  if (typeof action === 'string') throw new GrammarError('--policy', action);
  return { rules: [], fallback: action };
}

const ruleKeys = ['match', 'dev', 'pasid', 'addr', 'perm', 'notPerm', 'action'];

/** A policy rule's filter text → its AST, or a GrammarError naming `where`. */
export function parseRuleMatch(text: string, input: string, where: string): Expr {
  try {
    return parseFilter(text, { readTimeOnly: true });
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    throw new GrammarError(input, `${where}: ${err.message} in '${text}'`);
  }
}

/** Validate a parsed rules file (JSON.parse output). `input` names it in errors. */
export function parsePolicyRules(json: unknown, input = 'rules file'): PolicySpec {
  const fail = (where: string, msg: string): never => {
    throw new GrammarError(input, `${where}: ${msg}`);
  };
  if (!isObject(json))
    return fail('top level', 'must be an object { "rules": [...], "default": "..." }');
  for (const key of Object.keys(json)) {
    if (key !== 'rules' && key !== 'default')
      fail('top level', `unknown key '${key}' (rules, default)`);
  }
  const rulesIn = json.rules ?? [];
  if (!Array.isArray(rulesIn)) return fail('rules', 'must be an array');
  const actionOf = (where: string, v: unknown): PolicyAction => {
    if (typeof v !== 'string') return fail(where, `must be a string (${POLICY_USAGE})`);
    const a = parseAction(v);
    return typeof a === 'string' ? fail(where, a) : a;
  };
  const rules = rulesIn.map((r: unknown, i): PolicyRule => {
    const at = `rules[${i}]`;
    if (!isObject(r)) return fail(at, 'must be an object');
    for (const key of Object.keys(r)) {
      if (!ruleKeys.includes(key)) fail(at, `unknown key '${key}' (${ruleKeys.join(', ')})`);
    }
    if (!('action' in r)) fail(at, 'has no "action"');
    const action = actionOf(`${at}.action`, r.action);
    const terms: Expr[] = [];
    if (r.match !== undefined) {
      if (typeof r.match !== 'string')
        fail(`${at}.match`, 'must be a string in the filter language');
      terms.push(parseRuleMatch(String(r.match), input, `${at}.match`));
    }
    if (r.dev !== undefined) {
      const d = parseUint(String(r.dev), 'dev', 0, 0xffffffff);
      if (!d.ok || typeof r.dev !== 'number')
        fail(`${at}.dev`, d.ok ? 'must be a number' : d.error);
      else terms.push({ kind: 'cmp', field: 'dev', op: '==', value: d.value });
    }
    if (r.pasid !== undefined) {
      const p = parseUintRange(String(r.pasid), 'pasid', 0, PASID_MAX);
      if (!p.ok) fail(`${at}.pasid`, p.error);
      else
        terms.push({ kind: 'in', field: 'pasid', items: [{ lo: p.value.min, hi: p.value.max }] });
    }
    if (r.addr !== undefined) {
      if (typeof r.addr !== 'string') fail(`${at}.addr`, 'must be a string "0xA-0xB"');
      const a = parseHexRange(String(r.addr), 'addr');
      // The older form matches when the whole group lies in the range.
      if (!a.ok) fail(`${at}.addr`, a.error);
      else
        terms.push({
          kind: 'in',
          field: 'addr',
          items: [{ lo: a.value.min, hi: a.value.max }],
          all: true,
        });
    }
    for (const key of ['perm', 'notPerm'] as const) {
      const v = r[key];
      if (v === undefined) continue;
      const p = typeof v === 'string' ? parsePerm(v) : 'must be a string like "rw"';
      if (typeof p === 'string') return fail(`${at}.${key}`, p);
      if (key === 'perm') terms.push({ kind: 'contains', field: 'perm', bits: p });
      else terms.push(...notPermTerms(p));
    }
    return { match: and(...terms), action };
  });
  const fallback =
    json.default === undefined ? { kind: 'invalid' as const } : actionOf('default', json.default);
  return { rules, fallback };
}

/** notPerm "wx": none of those requested → !perm.w && !perm.x. */
function notPermTerms(bits: number): Expr[] {
  return PERM_LETTERS.filter(([, b]) => bits & b).map(([l]) => ({
    kind: 'not' as const,
    term: { kind: 'flag' as const, field: `perm.${l}` as 'perm.r' },
  }));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function formatAction(a: PolicyAction): string {
  if (a.kind !== 'delay') return a.kind;
  const t =
    a.ns % 1e6 === 0 ? `${a.ns / 1e6}ms` : a.ns % 1e3 === 0 ? `${a.ns / 1e3}us` : `${a.ns}ns`;
  return `delay=${t}${a.code === 1 ? ':invalid' : ''}`;
}

/** One line per rule, for logs and the dashboard. */
export function describePolicy(spec: PolicySpec): string[] {
  const lines = spec.rules.map(
    (r, i) => `#${i} ${formatFilter(r.match) || 'any'} → ${formatAction(r.action)}`,
  );
  lines.push(`default → ${formatAction(spec.fallback)}`);
  return lines;
}
