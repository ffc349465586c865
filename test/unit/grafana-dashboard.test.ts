// The fleet dashboard only asks for metrics iommuscope exports, and every
// query is valid PromQL (promtool parses them as recording rules).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { FaultMetrics } from '../../main/node/metrics/fault-metrics';
import { TopologyMetrics } from '../../main/node/metrics/topology-metrics';

const file = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'resources',
  'grafana',
  'iommuscope-fleet.json',
);

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

function queries(): { panel: string; expr: string }[] {
  const d = JSON.parse(readFileSync(file, 'utf8')) as {
    panels: Panel[];
    templating: { list: { definition?: string }[] };
  };
  const out = d.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
  );
  for (const v of d.templating.list)
    if (v.definition)
      out.push({
        panel: 'variable',
        expr: v.definition.replace(/^label_values\((\w+), \w+\)$/, '$1'),
      });
  return out;
}

test('grafana: every metric the dashboard queries is one iommuscope exports', () => {
  const registry = new Registry();
  new FaultMetrics({ registry });
  new TopologyMetrics(registry);
  const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
  const histograms = new Set(
    registry
      .getMetricsAsArray()
      .filter((m) => String(m.type) === 'histogram')
      .map((m) => m.name),
  );
  const qs = queries();
  assert.ok(qs.length >= 10);
  for (const { panel, expr } of qs) {
    const names = expr.match(/\biommuscope_[a-z_]+/g) ?? [];
    assert.ok(names.length > 0, `${panel}: no iommuscope metric in ${expr}`);
    for (const n of names) {
      const base = n.replace(/_(bucket|count|sum)$/, '');
      const ok = exported.has(n) || (histograms.has(base) && base !== n);
      assert.ok(ok, `${panel}: ${n} is not exported`);
    }
  }
});

test('grafana: every query parses as PromQL (promtool check rules)', (t) => {
  if (spawnSync('promtool', ['--version']).error)
    return t.skip('promtool is not installed (Debian: apt-get install prometheus)');
  const dir = mkdtempSync(path.join(tmpdir(), 'iommuscope-grafana-'));
  try {
    const rules = queries().map((q, i) => ({
      record: `iommuscope:dashboard_query_${i}`,
      expr: q.expr.replace(/\$__rate_interval/g, '5m').replace(/\$instance/g, '.*'),
    }));
    const rulesFile = path.join(dir, 'rules.json');
    writeFileSync(rulesFile, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    // And promtool does refuse bad PromQL.
    writeFileSync(
      rulesFile,
      JSON.stringify({ groups: [{ name: 'bad', rules: [{ record: 'x:y', expr: 'sum by (' }] }] }),
    );
    assert.notEqual(spawnSync('promtool', ['check', 'rules', rulesFile]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
