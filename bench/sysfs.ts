// `npm run bench:sysfs`: snapshot + decode of a synthetic sysfs tree with
// 1,000 PCI devices in 256 IOMMU groups behind 4 units, every device with
// ATS/PRI/PASID in config space. Target: under 100 ms per snapshot.
// Reference, measured in the same run: just reading the same files, folders
// and links with node:fs sync calls (no decoding).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SysfsRequest } from '../main/node/native/addon-types';
import { loadPciIds } from '../main/node/topology/pci-ids';
import { scanTopology, scanTopologyAsync } from '../main/node/topology/scan';
import { defaultReader, nodeReader, type SysfsReader } from '../main/node/topology/sysfs-reader';
import {
  buildTree,
  SVA_CAPABLE_VTD,
  type DeviceSpec,
  type TreeSpec,
} from '../test/unit/topology-tree';

const DEVICES = 1000;
const GROUPS = 256;
const UNITS = 4;
const RUNS = 25;
const TARGET_MS = 100;

function syntheticSpec(): TreeSpec {
  const devices: DeviceSpec[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const bus = (i >> 3) + 1;
    const fn = i & 7;
    devices.push({
      address: `0000:${bus.toString(16).padStart(2, '0')}:00.${fn}`,
      group: i % GROUPS,
      unit: `dmar${i % UNITS}`,
      driver: i % 5 === 0 ? 'vfio-pci' : i % 5 === 1 ? undefined : 'idxd',
      vfioCdev: i % 5 === 0 ? `vfio${i}` : undefined,
      config: {
        vendor: 0x8086,
        device: 0x0b25,
        classCode: 0x088000,
        ats: { enabled: i % 2 === 0, stu: 0 },
        pri: { enabled: i % 3 === 0, capacity: 512, status: i % 7 === 0 ? 0x100 : 0 },
        pasid: { enabled: i % 2 === 0, width: 20, exec: [true, false], priv: [true, false] },
      },
    });
  }
  return {
    units: Array.from({ length: UNITS }, (_, i) => ({
      name: `dmar${i}`,
      kind: 'intel' as const,
      registers: SVA_CAPABLE_VTD,
    })),
    groups: Array.from({ length: GROUPS }, (_, id) => ({ id })),
    devices,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Records every request a scan makes, to replay the same I/O as the reference. */
function recording(inner: SysfsReader, log: SysfsRequest[]): SysfsReader {
  const read = (q: SysfsRequest) => {
    log.push(q);
    return inner.read(q);
  };
  return { kind: inner.kind, root: inner.root, read, readAsync: async (q) => read(q) };
}

function rawRead(root: string, requests: SysfsRequest[]): void {
  const p = (rel: string) => path.join(root, rel);
  for (const q of requests) {
    for (const f of [...(q.files ?? []), ...(q.binary ?? [])]) {
      try {
        fs.readFileSync(p(f));
      } catch {
        /* same misses as the scan */
      }
    }
    for (const d of q.dirs ?? []) {
      try {
        fs.readdirSync(p(d));
      } catch {
        /* same misses as the scan */
      }
    }
    for (const l of q.links ?? []) {
      try {
        fs.readlinkSync(p(l));
      } catch {
        /* same misses as the scan */
      }
    }
  }
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'iommuscope-bench-sysfs-'));
  try {
    const tb = performance.now();
    buildTree(root, syntheticSpec());
    console.log(
      `synthetic tree: ${DEVICES} devices, ${GROUPS} groups, ${UNITS} units in ${root} (built in ${(performance.now() - tb).toFixed(0)} ms)`,
    );
    const tIds = performance.now();
    const pciIds = loadPciIds();
    console.log(
      `pci.ids: ${pciIds ? `parsed once in ${(performance.now() - tIds).toFixed(1)} ms (cached, not in the figures below)` : 'not found, names skipped'}`,
    );

    const reader = defaultReader(root);
    if (reader.kind !== 'native')
      console.log(`note: native addon not loadable, using node:fs (${reader.fallbackReason})`);
    const log: SysfsRequest[] = [];
    const t = scanTopology({ reader: recording(reader, log), pciIds });
    if (t.devices.length !== DEVICES || t.groups.length !== GROUPS || t.problems.length) {
      throw new Error(
        `scan saw ${t.devices.length} devices, ${t.groups.length} groups, ${t.problems.length} problems`,
      );
    }
    const ops = log.reduce(
      (n, q) =>
        n +
        (q.files?.length ?? 0) +
        (q.binary?.length ?? 0) +
        (q.dirs?.length ?? 0) +
        (q.links?.length ?? 0),
      0,
    );

    const scan: number[] = [];
    const raw: number[] = [];
    const nodeScan: number[] = [];
    for (let i = 0; i < RUNS + 3; i++) {
      const s = time(() => scanTopology({ reader, pciIds }));
      const r = time(() => rawRead(root, log));
      const n = time(() => scanTopology({ reader: nodeReader(root), pciIds }));
      if (i >= 3) {
        scan.push(s);
        raw.push(r);
        nodeScan.push(n);
      }
    }
    const asyncMs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await scanTopologyAsync({ reader, pciIds });
      asyncMs.push(performance.now() - t0);
    }
    const ms = median(scan);
    const ref = median(raw);
    console.log(`I/O per snapshot: ${ops} sysfs reads/listings/readlinks in ${log.length} batches`);
    console.log(
      `snapshot + decode (${reader.kind} reader): ${ms.toFixed(1)} ms median of ${RUNS} (min ${Math.min(...scan).toFixed(1)})`,
    );
    console.log(
      `reference, same files with fs.readFileSync/readdirSync/readlinkSync only: ${ref.toFixed(1)} ms`,
    );
    console.log(`ratio snapshot+decode / raw reads: ${(ms / ref).toFixed(2)}x`);
    console.log(
      `snapshot + decode with the node:fs reader: ${median(nodeScan).toFixed(1)} ms (${(median(nodeScan) / ms).toFixed(2)}x the ${reader.kind} reader)`,
    );
    console.log(`async snapshot (I/O on a worker thread): ${median(asyncMs).toFixed(1)} ms`);
    console.log(
      `target < ${TARGET_MS} ms for ${DEVICES} devices / ${GROUPS} groups: ${ms < TARGET_MS ? 'met' : 'MISSED'}`,
    );
    process.exitCode = ms < TARGET_MS ? 0 : 1;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

void main();
