// /sys/kernel/debug/iommu/intel/dmar_perf_latency: per unit the same
// "IOMMU: dmar0 Register Base Address: ..." header as iommu_regset, the
// bucket header line, and one row per latency type that was enabled by
// writing its number to the file (none by default: then the unit has no rows).
import { linesOf, ProblemList, type Decoded } from './problems';

export interface LatencyRow {
  /** e.g. 'inv_iotlb', 'inv_devtlb', 'inv_iec', 'svm_prq'. */
  name: string;
  /** Counts per bucket, in `buckets` order. */
  counts: number[];
  minUs: number;
  maxUs: number;
  averageUs: number;
}

export interface UnitLatency {
  unit: string;
  /** Bucket labels as printed ('<0.1us', '0.1us-1us', ..., '>=10ms'). */
  buckets: string[];
  rows: LatencyRow[];
}

export interface PerfLatencyDecoded extends Decoded {
  units: UnitLatency[];
}

const HEADER = /^IOMMU: (\S+) Register Base Address: /;

export function decodePerfLatency(text: string): PerfLatencyDecoded {
  const problems = new ProblemList();
  const units: UnitLatency[] = [];
  let cur: UnitLatency | null = null;
  linesOf(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    const h = HEADER.exec(line);
    if (h) {
      cur = { unit: h[1]!, buckets: [], rows: [] };
      units.push(cur);
      return;
    }
    const fields = line.trim().split(/\s+/);
    if (!cur) return problems.add(n, 'line before any "IOMMU: ... Register Base Address"', line);
    const unit: UnitLatency = cur;
    if (fields.at(-1) === 'average(us)') {
      unit.buckets = fields.slice(0, -3);
      return;
    }
    if (!unit.buckets.length) return problems.add(n, 'latency row before the bucket header', line);
    const nums = fields.slice(1).map(Number);
    if (nums.length !== unit.buckets.length + 3 || nums.some((x) => !Number.isInteger(x) || x < 0))
      return problems.add(n, `expected a name and ${unit.buckets.length + 3} counts`, line);
    const k = unit.buckets.length;
    unit.rows.push({
      name: fields[0]!,
      counts: nums.slice(0, k),
      minUs: nums[k]!,
      maxUs: nums[k + 1]!,
      averageUs: nums[k + 2]!,
    });
  });
  return { units, problems: problems.list, problemCount: problems.count };
}
