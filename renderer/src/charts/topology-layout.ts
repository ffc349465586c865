// The Topology view's layout: ELK's layered algorithm (main/common/
// iommufd-layout.ts), with the bundled ELK loaded on first use so its 1.6 MB
// stay out of the start-up bundle. It runs on the page's thread (ELK's
// built-in fake worker): no Web Worker, no eval, so the CSP is unchanged.
import {
  layoutObjects as layoutWith,
  layoutSignature,
  relabel,
  type LayoutEngine,
  type ObjectsLayout,
} from '../../../main/common/iommufd-layout';
import type { IommufdObjects } from '../../../main/common/iommufd-objects';

export {
  nodeLabel,
  type ObjectsLayout,
  type PlacedNode,
  type RoutedEdge,
} from '../../../main/common/iommufd-layout';

let engine: Promise<LayoutEngine> | null = null;

function elk(): Promise<LayoutEngine> {
  engine ??= import('elkjs/lib/elk.bundled.js').then((m) => {
    // CommonJS module: the constructor is the default export, or the module itself.
    const mod = m as unknown as { default?: new () => LayoutEngine };
    const Ctor = mod.default ?? (m as unknown as new () => LayoutEngine);
    return new Ctor();
  });
  return engine;
}

let last: { signature: string; layout: ObjectsLayout } | null = null;

/**
 * Lays out `objects`; rejects with ELK's error when it fails. A snapshot
 * whose boxes and edges are those of the last one (live counters moving)
 * reuses its geometry instead of running ELK again.
 */
export async function layoutObjects(objects: IommufdObjects): Promise<ObjectsLayout> {
  const signature = layoutSignature(objects);
  if (last?.signature === signature) return relabel(last.layout, objects);
  const layout = await layoutWith(objects, await elk());
  last = { signature, layout };
  return layout;
}
