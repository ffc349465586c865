// Differences between two topology snapshots, as change events for the
// dashboard: which units, groups and devices appeared, went away, or changed
// (and which of their top-level fields did).
import type { HostTopology, TopologyChange, TopologyEntity } from '../../common/host-topology';

// Fields that change on every scan without anything happening.
const VOLATILE = new Set<string>(['problems']);

function changedFields(a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    if (VOLATILE.has(k)) continue;
    const va = (a as Record<string, unknown>)[k];
    const vb = (b as Record<string, unknown>)[k];
    if (va === vb) continue;
    if (typeof va !== 'object' || typeof vb !== 'object' || va === null || vb === null) {
      out.push(k);
    } else if (JSON.stringify(va) !== JSON.stringify(vb)) {
      out.push(k);
    }
  }
  return out.sort();
}

function diffList<T extends object>(
  entity: TopologyEntity,
  before: T[],
  after: T[],
  idOf: (x: T) => string | number,
): TopologyChange[] {
  const old = new Map(before.map((x) => [idOf(x), x]));
  const out: TopologyChange[] = [];
  const seen = new Set<string | number>();
  for (const x of after) {
    const id = idOf(x);
    seen.add(id);
    const prev = old.get(id);
    if (prev === undefined) {
      out.push({ kind: 'added', entity, id });
      continue;
    }
    const fields = changedFields(prev, x);
    if (fields.length) out.push({ kind: 'changed', entity, id, fields });
  }
  for (const [id] of old) if (!seen.has(id)) out.push({ kind: 'removed', entity, id });
  return out;
}

/** Units first, then groups, then devices; `problems` lists are not compared. */
export function diffTopology(before: HostTopology, after: HostTopology): TopologyChange[] {
  return [
    ...diffList('unit', before.units, after.units, (u) => u.name),
    ...diffList('group', before.groups, after.groups, (g) => g.id),
    ...diffList('device', before.devices, after.devices, (d) => d.address),
  ];
}
