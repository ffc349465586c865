// What the IOMMU tracepoints mean for the activity view: each decoded record
// (by its runtime format) becomes one typed event. Definitions:
// include/trace/events/iommu.h and drivers/iommu/intel/trace.h.
import type { TraceValue } from './trace-format';

/** qi_submit descriptor types (qw0 & 0xf), as the tracepoint's print fmt names them. */
export const QI_TYPES: Record<number, string> = {
  0x1: 'cc_inv',
  0x2: 'iotlb_inv',
  0x3: 'dev_tlb_inv',
  0x4: 'iec_inv',
  0x5: 'inv_wait',
  0x6: 'p_iotlb_inv',
  0x7: 'pc_inv',
  0x8: 'p_dev_tlb_inv',
  0x9: 'page_grp_resp',
};

export const CACHE_TAG_TYPES: Record<number, string> = {
  0: 'iotlb',
  1: 'devtlb',
  2: 'nesting_iotlb',
  3: 'nesting_devtlb',
};

export type TraceActivity =
  | { type: 'map'; iova: string; size: number }
  | { type: 'unmap'; iova: string; size: number; unmapped: number }
  | { type: 'io-page-fault'; device: string; driver: string; iova: string; flags: number }
  | { type: 'attach'; device: string }
  | { type: 'group-add' | 'group-remove'; group: number; device: string }
  | { type: 'invalidation'; unit: string; kind: string }
  | { type: 'page-request'; unit: string; device: string; seq: number }
  | {
      type: 'iotlb-flush';
      unit: string;
      device: string;
      pasid: number;
      cacheType: string;
      start: string;
      end: string;
    }
  | {
      type: 'cache-tag';
      unit: string;
      device: string;
      assigned: boolean;
      cacheType: string;
      domainId: number;
      pasid: number;
    };

/** The events this view subscribes to, as 'system:name'. */
export const ACTIVITY_TRACEPOINTS = [
  'iommu:map',
  'iommu:unmap',
  'iommu:io_page_fault',
  'iommu:attach_device_to_domain',
  'iommu:add_device_to_group',
  'iommu:remove_device_from_group',
  'intel_iommu:qi_submit',
  'intel_iommu:prq_report',
  'intel_iommu:cache_tag_flush_range',
  'intel_iommu:cache_tag_flush_range_np',
  'intel_iommu:cache_tag_assign',
  'intel_iommu:cache_tag_unassign',
] as const;

const n = (v: TraceValue | undefined): number =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
const s = (v: TraceValue | undefined): string => (typeof v === 'string' ? v : '');
const h = (v: TraceValue | undefined): string =>
  `0x${(typeof v === 'bigint' ? v : BigInt(n(v))).toString(16)}`;

/** null for an event this view does not interpret. */
export function interpretTrace(event: string, f: Record<string, TraceValue>): TraceActivity | null {
  switch (event) {
    case 'iommu:map':
      return { type: 'map', iova: h(f.iova), size: n(f.size) };
    case 'iommu:unmap':
      return { type: 'unmap', iova: h(f.iova), size: n(f.size), unmapped: n(f.unmapped_size) };
    case 'iommu:io_page_fault':
      return {
        type: 'io-page-fault',
        device: s(f.device),
        driver: s(f.driver),
        iova: h(f.iova),
        flags: n(f.flags),
      };
    case 'iommu:attach_device_to_domain':
      return { type: 'attach', device: s(f.device) };
    case 'iommu:add_device_to_group':
    case 'iommu:remove_device_from_group':
      return {
        type: event.endsWith('add_device_to_group') ? 'group-add' : 'group-remove',
        group: n(f.gid),
        device: s(f.device),
      };
    case 'intel_iommu:qi_submit': {
      const t = Number((typeof f.qw0 === 'bigint' ? f.qw0 : BigInt(n(f.qw0))) & 0xfn);
      return { type: 'invalidation', unit: s(f.iommu), kind: QI_TYPES[t] ?? `type_${t}` };
    }
    case 'intel_iommu:prq_report':
      return { type: 'page-request', unit: s(f.iommu), device: s(f.dev), seq: n(f.seq) };
    case 'intel_iommu:cache_tag_flush_range':
    case 'intel_iommu:cache_tag_flush_range_np':
      return {
        type: 'iotlb-flush',
        unit: s(f.iommu),
        device: s(f.dev),
        pasid: n(f.pasid),
        cacheType: CACHE_TAG_TYPES[n(f.type)] ?? String(n(f.type)),
        start: h(f.start),
        end: h(f.end),
      };
    case 'intel_iommu:cache_tag_assign':
    case 'intel_iommu:cache_tag_unassign':
      return {
        type: 'cache-tag',
        unit: s(f.iommu),
        device: s(f.dev),
        assigned: event.endsWith('_assign'),
        cacheType: CACHE_TAG_TYPES[n(f.type)] ?? String(n(f.type)),
        domainId: n(f.domain_id),
        pasid: n(f.pasid),
      };
    default:
      return null;
  }
}
