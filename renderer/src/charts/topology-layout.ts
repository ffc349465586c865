// Layered layout of the session's iommufd objects, left to right:
// IOAS → HWPTs (nested ones a column further right than their parent) →
// devices → PASIDs; a fault queue sits one column left of and one row below
// the first HWPT that reports to it: every other edge of that HWPT leaves to
// the right (devices, PASIDs) or straight left (its IOAS), so none crosses it. Within a column, nodes are ordered by the mean
// position of what they connect to on the left, which keeps edges short.
import type {
  IommufdEdge,
  IommufdNode,
  IommufdObjects,
} from '../../../main/common/iommufd-objects';

export interface PlacedNode {
  node: IommufdNode;
  /** Column and row in layout units (the chart scales them). */
  col: number;
  row: number;
}

export function layoutObjects(objects: IommufdObjects): PlacedNode[] {
  const byKey = new Map(objects.nodes.map((n) => [n.key, n]));
  const out = (kind: IommufdEdge['kind'], from: string): string[] =>
    objects.edges.filter((e) => e.kind === kind && e.from === from).map((e) => e.to);

  // HWPT depth: 1 below an IOAS, one more per nesting level (cycles cut at 8).
  const depth = new Map<string, number>();
  const hwptDepth = (key: string, guard = 0): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    const parent = out('parent', key)[0];
    const p = parent ? byKey.get(parent) : undefined;
    const d = !p || p.type === 'ioas' || guard > 8 ? 1 : hwptDepth(p.key, guard + 1) + 1;
    depth.set(key, d);
    return d;
  };
  let maxHwpt = 0;
  for (const n of objects.nodes)
    if (n.type === 'hwpt') maxHwpt = Math.max(maxHwpt, hwptDepth(n.key));
  const devCol = Math.max(2, maxHwpt + 1);

  const colOf = (n: IommufdNode): number => {
    switch (n.type) {
      case 'ioas':
        return 0;
      case 'hwpt':
        return hwptDepth(n.key);
      case 'device':
        return devCol;
      case 'pasid':
        return devCol + 1;
      case 'fault':
        return -1; // placed beside its HWPT below
      case 'viommu':
        return devCol + 2;
      case 'vdevice':
      case 'veventq':
      case 'hwqueue':
        return devCol + 3;
    }
  };

  // Neighbours on the left, for ordering: parent of an HWPT, attached HWPT of
  // a device/PASID, the device of a PASID.
  const leftOf = (n: IommufdNode): string[] => {
    if (n.type === 'hwpt' || n.type === 'viommu') return out('parent', n.key);
    if (n.type === 'vdevice' || n.type === 'veventq' || n.type === 'hwqueue')
      return [...out('parent', n.key), ...out('vdevice', n.key)];
    if (n.type === 'device') return out('attached', n.key);
    if (n.type === 'pasid') {
      const owners = objects.edges
        .filter((e) => e.kind === 'pasid' && e.to === n.key)
        .map((e) => e.from);
      return [...out('attached', n.key), ...owners];
    }
    return [];
  };

  const columns = new Map<number, IommufdNode[]>();
  for (const n of objects.nodes) {
    const c = colOf(n);
    if (c < 0) continue;
    if (!columns.has(c)) columns.set(c, []);
    columns.get(c)!.push(n);
  }
  const rowOf = new Map<string, number>();
  const placed: PlacedNode[] = [];
  for (const c of [...columns.keys()].sort((a, b) => a - b)) {
    const nodes = columns.get(c)!;
    const score = (n: IommufdNode): number => {
      const rows = leftOf(n)
        .map((k) => rowOf.get(k))
        .filter((r): r is number => r !== undefined);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER;
    };
    nodes.sort(
      (a, b) => score(a) - score(b) || a.key.localeCompare(b.key, 'en', { numeric: true }),
    );
    nodes.forEach((n, i) => {
      // HWPT rows are spaced by 2 to leave room for a fault queue beside each.
      const row = n.type === 'hwpt' ? i * 2 : i;
      rowOf.set(n.key, row);
      placed.push({ node: n, col: c, row });
    });
  }
  let spare = 0;
  for (const n of objects.nodes) {
    if (n.type !== 'fault') continue;
    const reporter = objects.edges.find((e) => e.kind === 'fault' && e.to === n.key)?.from;
    const at = reporter ? placed.find((p) => p.node.key === reporter) : undefined;
    placed.push(
      at
        ? { node: n, col: at.col - 1, row: at.row + 1 }
        : { node: n, col: 1.45, row: -1 - spare++ },
    );
  }
  return placed;
}

export function nodeLabel(n: IommufdNode): string {
  switch (n.type) {
    case 'ioas':
      return `IOAS ${n.id}`;
    case 'hwpt':
      return `HWPT ${n.id} ${n.kind}${n.iopf ? ' iopf' : ''}`;
    case 'device':
      return `dev ${n.id}\n${n.label}`;
    case 'pasid':
      return `PASID ${n.pasid}\ndev ${n.devId}`;
    case 'fault':
      return `fault queue ${n.id}`;
    case 'viommu':
      return `vIOMMU ${n.id}\n${n.typeName}`;
    case 'vdevice':
      return `vDEVICE ${n.id}\nvirt ${n.virtId}`;
    case 'veventq':
      return `vEVENTQ ${n.id}\n${n.read} read · ${n.lost} lost`;
    case 'hwqueue':
      return `HW queue ${n.id}\n${n.typeName} #${n.index}`;
  }
}
