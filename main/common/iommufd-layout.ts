// Layout of the session's iommufd objects by ELK's layered algorithm, left to
// right: IOAS → HWPTs (nest-parent → vIOMMU → nested) → devices → PASIDs,
// with vDEVICE / vEVENTQ / HW queue right of their vIOMMU and fault queues
// right of the HWPT reporting to them. Edges are routed orthogonally between
// the layers, so none passes through a node's box.
//
// The contract's edges point from child to parent (HWPT → IOAS, device →
// HWPT); ELK layers along edge direction, so those kinds are handed to it
// reversed and their route is turned back afterwards: every routed edge runs
// from `edge.from` to `edge.to`, the arrow at `to`.
//
// Pure: the ELK instance is passed in (the renderer loads the bundled one
// lazily; tests construct their own).
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { IommufdEdge, IommufdEdgeKind, IommufdNode, IommufdObjects } from './iommufd-objects';

/** The part of an ELK instance the layout needs. */
export interface LayoutEngine {
  layout(graph: ElkNode): Promise<ElkNode>;
}

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedNode extends Box {
  node: IommufdNode;
  /** The label, one entry per line. */
  lines: string[];
}

export interface RoutedEdge {
  edge: IommufdEdge;
  /** Polyline from the `from` node's border to the `to` node's border. */
  points: Point[];
  label?: Box & { text: string };
}

export interface ObjectsLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: RoutedEdge[];
}

/** Label font metrics the renderer draws with (10 px monospace, 13 px lines). */
export const CHAR_PX = 6.2;
export const LINE_PX = 13;
const EDGE_LABEL_CHAR_PX = 5.6;

/** Kinds whose contract direction is against the left-to-right flow. */
const REVERSED: ReadonlySet<IommufdEdgeKind> = new Set(['parent', 'attached']);

const MIN_WIDTH: Record<IommufdNode['type'], number> = {
  ioas: 80,
  hwpt: 120,
  device: 140,
  pasid: 70,
  fault: 120,
  viommu: 110,
  vdevice: 110,
  veventq: 130,
  hwqueue: 110,
};

export const LAYOUT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
  'elk.spacing.nodeNode': '22',
  'elk.spacing.edgeNode': '14',
  'elk.spacing.edgeEdge': '8',
  'elk.spacing.edgeLabel': '3',
  'elk.layered.spacing.nodeNodeBetweenLayers': '56',
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.layered.nodePlacement.bk.fixedAlignment': 'BALANCED',
};

export function nodeLabel(n: IommufdNode): string {
  const base = ((): string => {
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
        return `vEVENTQ ${n.id} · depth ${n.depth}\n${n.read} read · ${n.lost} lost`;
      case 'hwqueue':
        return `HW queue ${n.id}\n${n.typeName} #${n.index}`;
    }
  })();
  return n.state === 'live' ? base : `${base}\n(${n.state})`;
}

export function nodeSize(n: IommufdNode, lines: string[]): { width: number; height: number } {
  const longest = Math.max(...lines.map((l) => l.length));
  return {
    width: Math.max(MIN_WIDTH[n.type], Math.ceil(longest * CHAR_PX + 20)),
    height: lines.length * LINE_PX + 14,
  };
}

/** The ELK input graph for `objects`; edges to unknown keys are left out. */
export function toElkGraph(objects: IommufdObjects): ElkNode {
  const keys = new Set(objects.nodes.map((n) => n.key));
  const edges: ElkExtendedEdge[] = [];
  objects.edges.forEach((e, i) => {
    if (!keys.has(e.from) || !keys.has(e.to)) return;
    const [source, target] = REVERSED.has(e.kind) ? [e.to, e.from] : [e.from, e.to];
    edges.push({
      id: `e${i}`,
      sources: [source],
      targets: [target],
      labels: [
        { text: e.kind, width: Math.ceil(e.kind.length * EDGE_LABEL_CHAR_PX) + 4, height: 11 },
      ],
    });
  });
  return {
    id: 'root',
    layoutOptions: LAYOUT_OPTIONS,
    children: objects.nodes.map((n) => ({ id: n.key, ...nodeSize(n, nodeLabel(n).split('\n')) })),
    edges,
  };
}

function routeOf(e: ElkExtendedEdge): Point[] {
  const points: Point[] = [];
  for (const s of e.sections ?? []) {
    points.push(s.startPoint, ...(s.bendPoints ?? []), s.endPoint);
  }
  return points.map((p) => ({ x: p.x, y: p.y }));
}

/** Reads ELK's result back onto the objects. */
export function fromElkGraph(objects: IommufdObjects, laid: ElkNode): ObjectsLayout {
  const byKey = new Map(objects.nodes.map((n) => [n.key, n]));
  const nodes: PlacedNode[] = [];
  for (const c of laid.children ?? []) {
    const node = byKey.get(c.id);
    if (!node) continue;
    nodes.push({
      node,
      lines: nodeLabel(node).split('\n'),
      x: c.x ?? 0,
      y: c.y ?? 0,
      width: c.width ?? 0,
      height: c.height ?? 0,
    });
  }
  const edges: RoutedEdge[] = [];
  for (const e of laid.edges ?? []) {
    const edge = objects.edges[Number(e.id.slice(1))];
    if (!edge) continue;
    const points = routeOf(e);
    if (REVERSED.has(edge.kind)) points.reverse();
    const l = e.labels?.[0];
    edges.push({
      edge,
      points,
      ...(l && l.x !== undefined && l.y !== undefined
        ? {
            label: {
              text: l.text ?? edge.kind,
              x: l.x,
              y: l.y,
              width: l.width ?? 0,
              height: l.height ?? 0,
            },
          }
        : {}),
    });
  }
  return { width: laid.width ?? 0, height: laid.height ?? 0, nodes, edges };
}

export async function layoutObjects(
  objects: IommufdObjects,
  engine: LayoutEngine,
): Promise<ObjectsLayout> {
  return fromElkGraph(objects, await engine.layout(toElkGraph(objects)));
}

/**
 * What the geometry depends on: node keys and box sizes, and the edges. Two
 * snapshots with the same signature (e.g. only a vEVENTQ's counters moved
 * within the same label width) share one layout: see `relabel`.
 */
export function layoutSignature(objects: IommufdObjects): string {
  const graph = toElkGraph(objects);
  return JSON.stringify([
    (graph.children ?? []).map((c) => [c.id, c.width, c.height]),
    (graph.edges ?? []).map((e) => [e.id, e.sources, e.targets]),
  ]);
}

/**
 * `layout`'s geometry with the objects and labels of `objects` (same
 * signature, so the edges are the same ones and are kept).
 */
export function relabel(layout: ObjectsLayout, objects: IommufdObjects): ObjectsLayout {
  const byKey = new Map(objects.nodes.map((n) => [n.key, n]));
  return {
    ...layout,
    nodes: layout.nodes.map((p) => {
      const node = byKey.get(p.node.key) ?? p.node;
      return { ...p, node, lines: nodeLabel(node).split('\n') };
    }),
  };
}

/** True when the segment a→b passes through the inside of `box` shrunk by `inset` on each side. */
export function segmentCrossesBox(a: Point, b: Point, box: Box, inset = 1): boolean {
  const x0 = box.x + inset;
  const y0 = box.y + inset;
  const x1 = box.x + box.width - inset;
  const y1 = box.y + box.height - inset;
  if (x1 <= x0 || y1 <= y0) return false;
  // Liang–Barsky clipping: does any part of the segment lie strictly inside?
  let t0 = 0;
  let t1 = 1;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const clip = (p: number, q: number): boolean => {
    if (p === 0) return q > 0;
    const r = q / p;
    if (p < 0) {
      if (r > t1) return false;
      if (r > t0) t0 = r;
    } else {
      if (r < t0) return false;
      if (r < t1) t1 = r;
    }
    return true;
  };
  return (
    clip(-dx, a.x - x0) &&
    clip(dx, x1 - a.x) &&
    clip(-dy, a.y - y0) &&
    clip(dy, y1 - a.y) &&
    t1 - t0 > 1e-9
  );
}

/** Every (edge, node) pair where the edge's route passes through the node's box. */
export function edgeNodeCrossings(layout: ObjectsLayout): string[] {
  const out: string[] = [];
  for (const r of layout.edges) {
    for (const n of layout.nodes) {
      for (let i = 1; i < r.points.length; i++) {
        if (segmentCrossesBox(r.points[i - 1]!, r.points[i]!, n)) {
          out.push(`${r.edge.from} —${r.edge.kind}→ ${r.edge.to} crosses ${n.node.key}`);
          break;
        }
      }
    }
  }
  return out;
}
