// policy.set's `spec` is the CLI's --policy grammar minus the @file form (a
// renderer must not name files on the core's machine): an action word, or
// the rules file's JSON text. formatPolicyText is the inverse, so the
// SessionState shows a policy the renderer can edit and send back.
import { GrammarError } from '../../common/grammar-error';
import { formatFilter } from '../../common/filter/format';
import {
  formatAction,
  parsePolicy,
  parsePolicyRules,
  type PolicyRule,
  type PolicySpec,
} from '../../common/policy';

export function parsePolicyText(text: string): PolicySpec {
  const t = text.trim();
  if (t.startsWith('@')) {
    throw new GrammarError(
      'policy',
      'the @file form is for the command line; send the rules file JSON text itself',
    );
  }
  if (!t.startsWith('{')) return parsePolicy(t);
  let json: unknown;
  try {
    json = JSON.parse(t);
  } catch (err) {
    throw new GrammarError(
      'policy',
      `rules JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return parsePolicyRules(json, 'policy');
}

function ruleToJson(r: PolicyRule): Record<string, unknown> {
  const match = formatFilter(r.match);
  return { ...(match ? { match } : {}), action: formatAction(r.action) };
}

export function formatPolicyText(spec: PolicySpec): string {
  if (spec.rules.length === 0) return formatAction(spec.fallback);
  return JSON.stringify({
    rules: spec.rules.map(ruleToJson),
    default: formatAction(spec.fallback),
  });
}
