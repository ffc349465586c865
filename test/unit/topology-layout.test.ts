// ELK layout of the Topology view: on the simulator's session graph and a
// hand-made nested graph with every node type, no edge's route passes
// through a node's box, every edge runs from its `from` node to its `to`
// node, boxes do not overlap and the flow goes left to right. The crossing
// check itself is tested on a route that does cross.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ELK from 'elkjs/lib/elk.bundled.js';
import {
  edgeNodeCrossings,
  layoutObjects,
  layoutSignature,
  relabel,
  segmentCrossesBox,
  type Box,
  type ObjectsLayout,
  type Point,
} from '../../main/common/iommufd-layout';
import { parseInject } from '../../main/common/inject';
import {
  IommufdObjectGraph,
  objectKey as k,
  type IommufdObjects,
} from '../../main/common/iommufd-objects';
import { SimSource } from '../../main/node/sources/sim-source';
import { fakeSimAddon } from '../shared/fake-fault-queue';

const elk = new ELK();

function simGraph(spec = 'count=8,pasids=1-4,devices=2'): IommufdObjects {
  const sim = new SimSource(fakeSimAddon());
  sim.checkInject(parseInject(spec));
  const objects = sim.objects();
  sim.close();
  return objects;
}

/** vIOMMU on a nest-parent HWPT, a nested HWPT on the vIOMMU with a fault queue, two devices with vDEVICEs, a vEVENTQ, a HW queue, PASIDs. */
function nestedGraph(): IommufdObjects {
  const g = new IommufdObjectGraph('iommufd');
  g.add({ type: 'ioas', key: k.ioas(1), id: 1, state: 'live', mappings: [] });
  g.add({
    type: 'hwpt',
    key: k.hwpt(2),
    id: 2,
    state: 'live',
    kind: 'nest-parent',
    iopf: false,
    dataType: 0,
  });
  g.add({
    type: 'viommu',
    key: k.viommu(3),
    id: 3,
    state: 'live',
    viommuType: 1,
    typeName: 'ARM SMMUv3',
  });
  g.add({
    type: 'hwpt',
    key: k.hwpt(4),
    id: 4,
    state: 'live',
    kind: 'nested',
    iopf: true,
    dataType: 2,
  });
  g.add({ type: 'fault', key: k.fault(5), id: 5, state: 'live' });
  g.add({
    type: 'veventq',
    key: k.veventq(8),
    id: 8,
    state: 'live',
    veventType: 1,
    typeName: 'ARM SMMUv3',
    depth: 64,
    read: 3,
    lost: 1,
  });
  g.add({
    type: 'hwqueue',
    key: k.hwqueue(9),
    id: 9,
    state: 'failed',
    queueType: 1,
    typeName: 'Tegra241 CMDQV',
    index: 0,
    base: '0x80000000',
    length: '0x1000',
  });
  g.link(k.hwpt(2), k.ioas(1), 'parent');
  g.link(k.viommu(3), k.hwpt(2), 'parent');
  g.link(k.hwpt(4), k.viommu(3), 'parent');
  g.link(k.hwpt(4), k.fault(5), 'fault');
  g.link(k.veventq(8), k.viommu(3), 'parent');
  g.link(k.hwqueue(9), k.viommu(3), 'parent');
  for (const dev of [1, 2]) {
    g.add({
      type: 'device',
      key: k.device(dev),
      id: dev,
      state: 'live',
      label: `/dev/vfio/devices/vfio${dev - 1}`,
      origin: 'vfio',
    });
    g.add({
      type: 'vdevice',
      key: k.vdevice(5 + dev),
      id: 5 + dev,
      state: 'live',
      virtId: `${dev * 8}`,
    });
    g.link(k.device(dev), k.hwpt(4), 'attached');
    g.link(k.vdevice(5 + dev), k.viommu(3), 'parent');
    g.link(k.vdevice(5 + dev), k.device(dev), 'vdevice');
    g.add({ type: 'pasid', key: k.pasid(dev, 1), devId: dev, pasid: 1, state: 'live' });
    g.link(k.device(dev), k.pasid(dev, 1), 'pasid');
    g.link(k.pasid(dev, 1), k.hwpt(4), 'attached');
  }
  // An edge to an object the graph does not have is left out, not an ELK error.
  g.link(k.device(2), k.hwpt(99), 'attached');
  return g.snapshot();
}

const center = (b: Box): Point => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });
const onBorder = (p: Point, b: Box): boolean =>
  p.x >= b.x - 0.5 && p.x <= b.x + b.width + 0.5 && p.y >= b.y - 0.5 && p.y <= b.y + b.height + 0.5;

function checkLayout(objects: IommufdObjects, layout: ObjectsLayout): void {
  const box = new Map(layout.nodes.map((n) => [n.node.key, n]));
  const keys = new Set(objects.nodes.map((n) => n.key));
  // step: every object placed, with a size
  assert.deepEqual([...box.keys()].sort(), [...keys].sort());
  for (const n of layout.nodes) assert.ok(n.width > 0 && n.height > 0, n.node.key);
  // step: every edge between known objects routed, from its `from` node to its `to` node
  const known = objects.edges.filter((e) => keys.has(e.from) && keys.has(e.to));
  assert.equal(layout.edges.length, known.length);
  for (const r of layout.edges) {
    assert.ok(r.points.length >= 2, `${r.edge.from}→${r.edge.to} has a route`);
    assert.ok(onBorder(r.points[0]!, box.get(r.edge.from)!), `${r.edge.from}: route starts on it`);
    assert.ok(onBorder(r.points.at(-1)!, box.get(r.edge.to)!), `${r.edge.to}: route ends on it`);
    for (let i = 1; i < r.points.length; i++) {
      const [a, b] = [r.points[i - 1]!, r.points[i]!];
      assert.ok(Math.abs(a.x - b.x) < 1e-6 || Math.abs(a.y - b.y) < 1e-6, 'orthogonal segments');
    }
  }
  // step: no edge passes through any node box (its own ends included)
  assert.deepEqual(edgeNodeCrossings(layout), []);
  // step: no two boxes overlap; everything inside the layout's size
  for (const a of layout.nodes) {
    assert.ok(
      a.x >= 0 && a.y >= 0 && a.x + a.width <= layout.width && a.y + a.height <= layout.height,
    );
    for (const b of layout.nodes) {
      if (a === b) continue;
      const apart =
        a.x + a.width <= b.x ||
        b.x + b.width <= a.x ||
        a.y + a.height <= b.y ||
        b.y + b.height <= a.y;
      assert.ok(apart, `${a.node.key} and ${b.node.key} overlap`);
    }
  }
}

test('sim session graph: every edge routed around the nodes, IOAS left of HWPT left of devices left of PASIDs', async () => {
  const objects = simGraph();
  assert.ok(
    objects.nodes.some((n) => n.type === 'pasid'),
    'the sim attached PASIDs',
  );
  const layout = await layoutObjects(objects, elk);
  checkLayout(objects, layout);
  const x = (key: string) => center(layout.nodes.find((n) => n.node.key === key)!).x;
  assert.ok(x(k.ioas(1)) < x(k.hwpt(2)));
  assert.ok(x(k.hwpt(2)) < x(k.device(1)));
  assert.ok(x(k.device(1)) < x(k.pasid(1, 3)));
  assert.ok(x(k.hwpt(2)) < x(k.fault(3)), 'the fault queue right of the HWPT reporting to it');
});

test('a bigger sim graph (4 devices, 8 PASIDs each) and one after detach: still no crossings', async () => {
  const big = simGraph('count=8,pasids=1-8,devices=4');
  assert.equal(big.nodes.filter((n) => n.type === 'pasid').length, 32);
  checkLayout(big, await layoutObjects(big, elk));
  const sim = new SimSource(fakeSimAddon());
  sim.checkInject(parseInject('count=8,pasids=1-2,devices=3'));
  sim.detach();
  const detached = sim.objects();
  sim.close();
  assert.ok(!detached.edges.some((e) => e.kind === 'attached'));
  checkLayout(detached, await layoutObjects(detached, elk));
});

test('nested graph with every node type: no crossings, nest-parent → vIOMMU → nested HWPT → devices', async () => {
  const objects = nestedGraph();
  assert.deepEqual([...new Set(objects.nodes.map((n) => n.type))].sort(), [
    'device',
    'fault',
    'hwpt',
    'hwqueue',
    'ioas',
    'pasid',
    'vdevice',
    'veventq',
    'viommu',
  ]);
  const layout = await layoutObjects(objects, elk);
  checkLayout(objects, layout);
  const x = (key: string) => center(layout.nodes.find((n) => n.node.key === key)!).x;
  assert.ok(x(k.ioas(1)) < x(k.hwpt(2)));
  assert.ok(x(k.hwpt(2)) < x(k.viommu(3)));
  assert.ok(x(k.viommu(3)) < x(k.hwpt(4)));
  assert.ok(x(k.hwpt(4)) < x(k.device(1)));
  assert.ok(x(k.viommu(3)) < x(k.vdevice(6)) && x(k.viommu(3)) < x(k.veventq(8)));
  // Labels carry the live counters and the state.
  const veventq = layout.nodes.find((n) => n.node.key === k.veventq(8))!;
  assert.deepEqual(veventq.lines, ['vEVENTQ 8 · depth 64', '3 read · 1 lost']);
  assert.equal(layout.nodes.find((n) => n.node.key === k.hwqueue(9))!.lines.at(-1), '(failed)');
});

test('moving vEVENTQ counters keep the signature (geometry reused, labels new); a new edge changes it', async () => {
  const before = nestedGraph();
  const layout = await layoutObjects(before, elk);
  const after = structuredClone(before);
  const q = after.nodes.find((n) => n.type === 'veventq');
  assert.ok(q?.type === 'veventq');
  q.read = 7;
  assert.equal(layoutSignature(after), layoutSignature(before));
  const again = relabel(layout, after);
  const box = (l: ObjectsLayout) => l.nodes.find((n) => n.node.key === k.veventq(8))!;
  assert.deepEqual(box(again).lines, ['vEVENTQ 8 · depth 64', '7 read · 1 lost']);
  assert.deepEqual(
    [box(again).x, box(again).y, box(again).width],
    [box(layout).x, box(layout).y, box(layout).width],
  );
  assert.deepEqual(edgeNodeCrossings(again), []);
  const linked = structuredClone(before);
  linked.edges.push({ from: k.device(1), to: k.hwpt(2), kind: 'attached' });
  assert.notEqual(layoutSignature(linked), layoutSignature(before));
  q.read = 1234567; // a wider label is a new box size: laid out again
  assert.notEqual(layoutSignature(after), layoutSignature(before));
});

test('the crossing check: a route through a box is caught, one along its border or around it is not', () => {
  const box = { x: 10, y: 10, width: 20, height: 10 };
  assert.equal(segmentCrossesBox({ x: 0, y: 15 }, { x: 40, y: 15 }, box), true);
  assert.equal(segmentCrossesBox({ x: 20, y: 0 }, { x: 20, y: 12 }, box), true);
  assert.equal(segmentCrossesBox({ x: 0, y: 10 }, { x: 40, y: 10 }, box), false, 'along the top');
  assert.equal(segmentCrossesBox({ x: 0, y: 25 }, { x: 40, y: 25 }, box), false, 'below');
  assert.equal(
    segmentCrossesBox({ x: 0, y: 15 }, { x: 10, y: 15 }, box),
    false,
    'ends on the border',
  );
  const crossing: ObjectsLayout = {
    width: 100,
    height: 40,
    nodes: [{ node: { type: 'fault', key: 'fault:1', id: 1, state: 'live' }, lines: [], ...box }],
    edges: [
      {
        edge: { from: 'hwpt:1', to: 'dev:1', kind: 'attached' },
        points: [
          { x: 0, y: 15 },
          { x: 40, y: 15 },
        ],
      },
    ],
  };
  assert.deepEqual(edgeNodeCrossings(crossing), ['hwpt:1 —attached→ dev:1 crosses fault:1']);
});
