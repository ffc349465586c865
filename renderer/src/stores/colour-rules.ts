// The fault table's colouring rules (colour-rule-storage.ts): edited in
// ColourRulesDialog, compiled once per change with the display-filter
// language, evaluated per row on screen (first match wins). A rule whose
// text does not parse colours nothing and says why in the dialog.
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { FilterError, parseFilter } from '../../../main/common/filter';
import { compileFilter } from '../../../main/common/filter/evaluate';
import { faultRowFacts } from '../../../main/common/filter/row-facts';
import type { FaultRow } from '../../../main/common/contract';
import {
  MAX_RULES,
  defaultRuleSet,
  loadRuleSet,
  saveRuleSet,
  type ColourRule,
} from '../colour-rule-storage';

interface Compiled {
  rule: ColourRule;
  index: number;
  test: ((slot: number) => boolean) | null;
  problem: string | null;
}

export const useColourRulesStore = defineStore('colourRules', () => {
  const initial = loadRuleSet();
  const enabled = ref(initial.enabled);
  const rules = ref<ColourRule[]>(initial.rules);
  /** The row being evaluated: the compiled filters read it through the facts. */
  let current: FaultRow[] = [];
  const facts = faultRowFacts(() => current);

  watch([enabled, rules], () => saveRuleSet({ enabled: enabled.value, rules: rules.value }), {
    deep: true,
  });

  const compiled = computed<Compiled[]>(() =>
    rules.value.map((rule, index) => {
      try {
        return { rule, index, test: compileFilter(parseFilter(rule.filter), facts), problem: null };
      } catch (err) {
        const problem = err instanceof FilterError ? err.message : String(err);
        return { rule, index, test: null, problem };
      }
    }),
  );

  /** The first rule `row` matches, or null (also when colouring is off). */
  function ruleFor(row: FaultRow): { name: string; colour: string; index: number } | null {
    if (!enabled.value) return null;
    current = [row];
    for (const c of compiled.value) {
      if (c.test?.(0)) return { name: c.rule.name, colour: c.rule.colour, index: c.index };
    }
    return null;
  }

  function add(): void {
    if (rules.value.length >= MAX_RULES) return;
    rules.value = [...rules.value, { name: 'new rule', filter: 'dev == 1', colour: '#1f3a4a' }];
  }

  function update(index: number, patch: Partial<ColourRule>): void {
    rules.value = rules.value.map((r, i) => (i === index ? { ...r, ...patch } : r));
  }

  function remove(index: number): void {
    rules.value = rules.value.filter((_, i) => i !== index);
  }

  /** Moves rule `index` by `delta` places (earlier rules win). */
  function move(index: number, delta: number): void {
    const to = index + delta;
    if (to < 0 || to >= rules.value.length) return;
    const next = [...rules.value];
    const [r] = next.splice(index, 1);
    next.splice(to, 0, r!);
    rules.value = next;
  }

  function reset(): void {
    const d = defaultRuleSet();
    rules.value = d.rules;
    enabled.value = d.enabled;
  }

  return { enabled, rules, compiled, ruleFor, add, update, remove, move, reset };
});
