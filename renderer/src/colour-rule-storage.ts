// Colouring rules of the fault table, like Wireshark's: an ordered list of
// (name, display filter, colour); the first rule a row matches colours it.
// Kept in localStorage; a broken or foreign value falls back to the defaults.
const RULES_KEY = 'iommuscope.colourRules';
export const MAX_RULES = 32;
const MAX_TEXT = 4096;

export interface ColourRule {
  name: string;
  filter: string;
  /** #rrggbb, the row's background. */
  colour: string;
}

export interface ColourRuleSet {
  enabled: boolean;
  rules: ColourRule[];
}

export const DEFAULT_RULES: readonly ColourRule[] = [
  { name: 'pending', filter: 'state == pending', colour: '#3d3414' },
  { name: 'answered by kernel', filter: 'by == kernel', colour: '#2f2546' },
  { name: 'invalid', filter: 'state == invalid', colour: '#44202a' },
];

export function defaultRuleSet(): ColourRuleSet {
  return { enabled: true, rules: DEFAULT_RULES.map((r) => ({ ...r })) };
}

const COLOUR = /^#[0-9a-fA-F]{6}$/;

function isRule(v: unknown): v is ColourRule {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.name === 'string' &&
    r.name.length <= 64 &&
    typeof r.filter === 'string' &&
    r.filter.length <= MAX_TEXT &&
    typeof r.colour === 'string' &&
    COLOUR.test(r.colour)
  );
}

export function loadRuleSet(): ColourRuleSet {
  try {
    const v = JSON.parse(localStorage.getItem(RULES_KEY) ?? 'null') as unknown;
    if (typeof v !== 'object' || v === null) return defaultRuleSet();
    const o = v as Record<string, unknown>;
    if (typeof o.enabled !== 'boolean' || !Array.isArray(o.rules)) return defaultRuleSet();
    return {
      enabled: o.enabled,
      rules: o.rules
        .filter(isRule)
        .slice(0, MAX_RULES)
        .map((r) => ({ ...r })),
    };
  } catch {
    return defaultRuleSet();
  }
}

export function saveRuleSet(set: ColourRuleSet): void {
  try {
    localStorage.setItem(RULES_KEY, JSON.stringify(set));
  } catch {
    // Storage full or disabled: the rules last for this page.
  }
}
