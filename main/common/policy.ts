// Automatic-answer policy: what the native reader does with each complete
// group without waiting on JS. Two inputs produce the same PolicySpec:
//   --policy success|invalid|hold|map|delay=5ms[:invalid]
//   --policy @rules.json, read by the caller and given to parsePolicyRules:
//     { "rules": [ { "dev": 1, "pasid": "1-8", "addr": "0x1000-0x1fff",
//                    "perm": "w", "notPerm": "x", "action": "invalid" } ],
//       "default": "success" }
//   Rules are tried in order, first match wins; every match key is optional;
//   "perm" matches when all those permissions are requested, "notPerm" when
//   none of them are. Without "default", unmatched groups are answered invalid.
// PolicySpec is serialisable (addresses as hex strings, no bigint).
import { didYouMean } from './suggest';
import { GrammarError } from './grammar-error';
import { parsePerm, permString } from './fault-record';
import { PASID_MAX } from './inject';
import { parseDurationNs, parseHexRange, parseUint, parseUintRange } from './parse-values';

export type PolicyAction =
  | { kind: 'hold' }
  | { kind: 'success' }
  | { kind: 'invalid' }
  | { kind: 'map' }
  /** Answer after `ns` nanoseconds with `code` (0 success, 1 invalid). */
  | { kind: 'delay'; ns: number; code: 0 | 1 };

export interface PolicyRule {
  devId?: number;
  pasidMin?: number;
  pasidMax?: number;
  /** Inclusive, '0x…' hex. */
  addrMin?: string;
  addrMax?: string;
  permAll?: number;
  permNone?: number;
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

const ruleKeys = ['dev', 'pasid', 'addr', 'perm', 'notPerm', 'action'];

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
    const rule: PolicyRule = { action: actionOf(`${at}.action`, r.action) };
    if (r.dev !== undefined) {
      const d = parseUint(String(r.dev), 'dev', 0, 0xffffffff);
      rule.devId =
        d.ok && typeof r.dev === 'number'
          ? d.value
          : fail(`${at}.dev`, d.ok ? 'must be a number' : d.error);
    }
    if (r.pasid !== undefined) {
      const p = parseUintRange(String(r.pasid), 'pasid', 0, PASID_MAX);
      if (!p.ok) fail(`${at}.pasid`, p.error);
      else [rule.pasidMin, rule.pasidMax] = [p.value.min, p.value.max];
    }
    if (r.addr !== undefined) {
      if (typeof r.addr !== 'string') fail(`${at}.addr`, 'must be a string "0xA-0xB"');
      const a = parseHexRange(String(r.addr), 'addr');
      if (!a.ok) fail(`${at}.addr`, a.error);
      else [rule.addrMin, rule.addrMax] = [a.value.min, a.value.max];
    }
    for (const [key, field] of [
      ['perm', 'permAll'],
      ['notPerm', 'permNone'],
    ] as const) {
      const v = r[key];
      if (v === undefined) continue;
      const p = typeof v === 'string' ? parsePerm(v) : 'must be a string like "rw"';
      rule[field] = typeof p === 'number' ? p : fail(`${at}.${key}`, p);
    }
    return rule;
  });
  const fallback =
    json.default === undefined ? { kind: 'invalid' as const } : actionOf('default', json.default);
  return { rules, fallback };
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
  const lines = spec.rules.map((r, i) => {
    const m: string[] = [];
    if (r.devId !== undefined) m.push(`dev=${r.devId}`);
    if (r.pasidMin !== undefined) m.push(`pasid=${r.pasidMin}-${r.pasidMax}`);
    if (r.addrMin !== undefined) m.push(`addr=${r.addrMin}-${r.addrMax}`);
    if (r.permAll !== undefined) m.push(`perm⊇${permString(r.permAll)}`);
    if (r.permNone !== undefined) m.push(`perm∌${permString(r.permNone)}`);
    return `#${i} ${m.join(' ') || 'any'} → ${formatAction(r.action)}`;
  });
  lines.push(`default → ${formatAction(spec.fallback)}`);
  return lines;
}
