// One snapshot of the host topology, read in three batched phases (list the
// top folders; read every unit, group and PCI device; then unit registers and
// whatever the second phase found missing) and decoded here in TypeScript.
//
// Nothing about one item stops the scan: read and parse failures become
// problems on that item, a device that disappears between phases is dropped
// with a top-level EVANISHED problem.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  HOST_TOPOLOGY_SCHEMA,
  type HostDevice,
  type HostTopology,
  type IommuGroup,
  type IommuKind,
  type IommuUnit,
  type ReservedRegion,
  type TopologyProblem,
} from '../../common/host-topology';
import type { SysfsError, SysfsRequest, SysfsResult } from '../native/addon-types';
import { AMD_REGISTER_FILES, decodeAmdUnit } from './amd-cap';
import { decodeIntelUnit, INTEL_REGISTER_FILES } from './intel-cap';
import { decodeConfig } from './pci-config';
import { loadPciIds, type PciIds } from './pci-ids';
import { defaultReader, isSysfsError, type SysfsReader } from './sysfs-reader';
import { groupViability } from './viability';

export interface ScanOptions {
  /** Default '/sys'. */
  sysfsRoot?: string;
  /** Default: the native reader, or node:fs when the addon is not built. */
  reader?: SysfsReader;
  /** Name database; null for no names. Default: /usr/share/misc/pci.ids when present. */
  pciIds?: PciIds | null;
}

/** Collects one phase's paths and hands out indexes into the result arrays. */
class Batch {
  readonly files: string[] = [];
  readonly binary: string[] = [];
  readonly dirs: string[] = [];
  readonly links: string[] = [];
  file(p: string): number {
    return this.files.push(p) - 1;
  }
  bin(p: string): number {
    return this.binary.push(p) - 1;
  }
  dir(p: string): number {
    return this.dirs.push(p) - 1;
  }
  link(p: string): number {
    return this.links.push(p) - 1;
  }
  request(): SysfsRequest {
    return { files: this.files, binary: this.binary, dirs: this.dirs, links: this.links };
  }
}

type Step = Generator<SysfsRequest, HostTopology, SysfsResult>;

const missing: SysfsError = { code: 'ENOENT', errno: 2, message: 'not returned by the reader' };

function at<T>(arr: (T | SysfsError)[], i: number): T | SysfsError {
  return i < arr.length ? (arr[i] as T | SysfsError) : missing;
}

function problemOf(e: SysfsError, rel: string): TopologyProblem {
  return { path: rel, code: e.code, message: e.message };
}

/** Link value → basename of its target, null when absent (ENOENT), problem otherwise. */
function linkName(v: string | SysfsError, rel: string, problems: TopologyProblem[]): string | null {
  if (!isSysfsError(v)) return path.posix.basename(v);
  if (v.code !== 'ENOENT') problems.push(problemOf(v, rel));
  return null;
}

function resolveLink(rel: string, target: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
}

function parseHexId(v: string | SysfsError, rel: string, problems: TopologyProblem[]) {
  if (isSysfsError(v)) {
    problems.push(problemOf(v, rel));
    return undefined;
  }
  const t = v.trim();
  if (/^0x[0-9a-fA-F]{1,8}$/.test(t)) return parseInt(t, 16);
  problems.push({
    path: rel,
    code: 'EPARSE',
    message: `${rel}: expected 0x-hex, got ${JSON.stringify(t.slice(0, 40))}`,
  });
  return undefined;
}

export function parseReservedRegions(
  text: string,
  rel: string,
  problems: TopologyProblem[],
): ReservedRegion[] {
  const out: ReservedRegion[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^\s*(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(\S+)\s*$/.exec(line);
    if (!m) {
      problems.push({
        path: rel,
        code: 'EPARSE',
        message: `${rel}: unexpected line ${JSON.stringify(line.slice(0, 80))}`,
      });
      continue;
    }
    out.push({ start: m[1] ?? '', end: m[2] ?? '', kind: m[3] ?? '' });
  }
  return out;
}

function unitKind(name: string, entries: string[], linkTarget: string | null): IommuKind {
  if (entries.includes('intel-iommu')) return 'intel-vtd';
  if (entries.includes('amd-iommu')) return 'amd-vi';
  if (/^smmu3\./.test(name) || (linkTarget ?? '').includes('arm-smmu-v3')) return 'arm-smmuv3';
  return 'other';
}

function emptyDevice(address: string, sysfsPath: string, bus: HostDevice['bus']): HostDevice {
  const none = { supported: false, enabled: false };
  return {
    address,
    bus,
    sysfsPath,
    driver: null,
    group: null,
    unit: null,
    vfioCdev: null,
    configAccess: bus === 'pci' ? 'none' : 'not-pci',
    ats: { ...none },
    pri: { ...none },
    pasid: { ...none },
    problems: [],
  };
}

function vfioCdev(v: string[] | SysfsError, rel: string, problems: TopologyProblem[]) {
  if (isSysfsError(v)) {
    if (v.code !== 'ENOENT') problems.push(problemOf(v, rel));
    return null;
  }
  return v.filter((n) => /^vfio\d+$/.test(n)).sort()[0] ?? null;
}

function* scanSteps(root: string, pciIds: PciIds | null): Step {
  const takenAt = Date.now();
  const problems: TopologyProblem[] = [];

  // Phase 1: what exists.
  const b1 = new Batch();
  const iUnits = b1.dir('class/iommu');
  const iGroups = b1.dir('kernel/iommu_groups');
  const iPci = b1.dir('bus/pci/devices');
  const r1 = yield b1.request();
  const list = (i: number, rel: string, quietEnoent: boolean): string[] => {
    const v = at(r1.dirs, i);
    if (!isSysfsError(v)) return [...v].sort();
    if (v.code === 'ENOENT' && quietEnoent) return [];
    problems.push(
      v.code === 'ENOENT'
        ? {
            path: rel,
            code: 'ENOENT',
            message:
              `no ${rel} under ${root}: no IOMMU is active (enable it with intel_iommu=on or ` +
              'amd_iommu=on), or the sysfs root is wrong',
          }
        : problemOf(v, rel),
    );
    return [];
  };
  const unitNames = list(iUnits, 'class/iommu', true);
  const groupIds: number[] = [];
  for (const n of list(iGroups, 'kernel/iommu_groups', false)) {
    if (/^\d+$/.test(n)) groupIds.push(Number(n));
    else
      problems.push({
        path: `kernel/iommu_groups/${n}`,
        code: 'EPARSE',
        message: `kernel/iommu_groups/${n}: not a group number`,
      });
  }
  groupIds.sort((a, b) => a - b);
  const pciAddrs = list(iPci, 'bus/pci/devices', true);

  // Phase 2: every unit, group and PCI device.
  const b2 = new Batch();
  const unitIdx = unitNames.map((name) => {
    const base = `class/iommu/${name}`;
    return {
      name,
      base,
      self: b2.link(base),
      entries: b2.dir(base),
      devs: b2.dir(`${base}/devices`),
    };
  });
  const groupIdx = groupIds.map((id) => {
    const base = `kernel/iommu_groups/${id}`;
    return {
      id,
      base,
      type: b2.file(`${base}/type`),
      rr: b2.file(`${base}/reserved_regions`),
      devs: b2.dir(`${base}/devices`),
    };
  });
  const pciIdx = pciAddrs.map((addr) => {
    const base = `bus/pci/devices/${addr}`;
    return {
      addr,
      base,
      self: b2.link(base),
      config: b2.bin(`${base}/config`),
      driver: b2.link(`${base}/driver`),
      group: b2.link(`${base}/iommu_group`),
      iommu: b2.link(`${base}/iommu`),
      vfio: b2.dir(`${base}/vfio-dev`),
    };
  });
  const r2 = yield b2.request();

  const devices = new Map<string, HostDevice>();
  const vanished = new Set<string>();
  const needIds: HostDevice[] = [];
  for (const p of pciIdx) {
    const self = at(r2.links, p.self);
    const cfg = at(r2.binary, p.config);
    if (isSysfsError(cfg) && cfg.code === 'ENOENT') {
      vanished.add(p.addr);
      problems.push({
        path: p.base,
        code: 'EVANISHED',
        message: `${p.addr} disappeared during the scan (hot-unplugged or removed)`,
      });
      continue;
    }
    const sysfsPath = isSysfsError(self) ? p.base : resolveLink(p.base, self);
    const d = emptyDevice(p.addr, sysfsPath, 'pci');
    if (isSysfsError(cfg)) {
      d.problems.push(problemOf(cfg, `${p.base}/config`));
      const why = `config space could not be read (${cfg.code})`;
      d.ats = { supported: null, enabled: null, unknown: why };
      d.pri = { supported: null, enabled: null, unknown: why };
      d.pasid = { supported: null, enabled: null, unknown: why };
      needIds.push(d);
    } else {
      const dec = decodeConfig(cfg, `${p.base}/config`);
      d.configAccess = dec.access;
      d.ats = dec.ats;
      d.pri = dec.pri;
      d.pasid = dec.pasid;
      if (dec.acs) d.acs = dec.acs;
      if (dec.capabilities) d.capabilities = dec.capabilities;
      d.problems.push(...dec.problems);
      const h = dec.header;
      if (h) d.revision = h.revision;
      // SR-IOV VFs read 0xffff as vendor in config space: the kernel's files know better.
      if (!h || h.vendorId === 0xffff) needIds.push(d);
      else {
        d.vendorId = h.vendorId;
        d.deviceId = h.deviceId;
        d.classCode = h.classCode;
        if (h.subsystemVendorId !== undefined) d.subsystemVendorId = h.subsystemVendorId;
        if (h.subsystemDeviceId !== undefined) d.subsystemDeviceId = h.subsystemDeviceId;
      }
    }
    d.driver = linkName(at(r2.links, p.driver), `${p.base}/driver`, d.problems);
    const g = linkName(at(r2.links, p.group), `${p.base}/iommu_group`, d.problems);
    d.group = g !== null && /^\d+$/.test(g) ? Number(g) : null;
    d.unit = linkName(at(r2.links, p.iommu), `${p.base}/iommu`, d.problems);
    d.vfioCdev = vfioCdev(at(r2.dirs, p.vfio), `${p.base}/vfio-dev`, d.problems);
    devices.set(d.address, d);
  }

  const units: IommuUnit[] = [];
  const unitEntries = new Map<string, string[]>();
  for (const u of unitIdx) {
    const unitProblems: TopologyProblem[] = [];
    const entries = at(r2.dirs, u.entries);
    if (isSysfsError(entries)) unitProblems.push(problemOf(entries, u.base));
    const self = at(r2.links, u.self);
    const kind = unitKind(
      u.name,
      isSysfsError(entries) ? [] : entries,
      isSysfsError(self) ? null : self,
    );
    const devs = at(r2.dirs, u.devs);
    if (isSysfsError(devs) && devs.code !== 'ENOENT')
      unitProblems.push(problemOf(devs, `${u.base}/devices`));
    const devList = isSysfsError(devs) ? [] : [...devs].sort();
    unitEntries.set(u.name, devList);
    units.push({
      name: u.name,
      kind,
      registers: {},
      features: [],
      summary: {},
      devices: devList,
      problems: unitProblems,
    });
  }

  const groups: IommuGroup[] = [];
  for (const g of groupIdx) {
    const gp: TopologyProblem[] = [];
    const type = at(r2.files, g.type);
    if (isSysfsError(type) && type.code !== 'ENOENT') gp.push(problemOf(type, `${g.base}/type`));
    const rr = at(r2.files, g.rr);
    let reservedRegions: ReservedRegion[] = [];
    if (isSysfsError(rr)) gp.push(problemOf(rr, `${g.base}/reserved_regions`));
    else reservedRegions = parseReservedRegions(rr, `${g.base}/reserved_regions`, gp);
    const devs = at(r2.dirs, g.devs);
    if (isSysfsError(devs)) gp.push(problemOf(devs, `${g.base}/devices`));
    groups.push({
      id: g.id,
      type: isSysfsError(type) ? null : type.trim() || null,
      reservedRegions,
      devices: isSysfsError(devs) ? [] : [...devs].sort(),
      viability: { viable: false, reasons: [] },
      problems: gp,
    });
  }

  // Phase 3: unit registers, id files the config space did not give, and
  // devices seen only through a group or unit (non-PCI, or hotplugged mid-scan).
  const b3 = new Batch();
  const regIdx = units.map((u) => {
    const files =
      u.kind === 'intel-vtd'
        ? INTEL_REGISTER_FILES.map((f) => [f, `class/iommu/${u.name}/intel-iommu/${f}`] as const)
        : u.kind === 'amd-vi'
          ? AMD_REGISTER_FILES.map((f) => [f, `class/iommu/${u.name}/amd-iommu/${f}`] as const)
          : [];
    return { unit: u, files: files.map(([f, rel]) => ({ f, rel, i: b3.file(rel) })) };
  });
  const idIdx = needIds.map((d) => {
    const base = `bus/pci/devices/${d.address}`;
    const f = (n: string) => ({ rel: `${base}/${n}`, i: b3.file(`${base}/${n}`) });
    return {
      d,
      vendor: f('vendor'),
      device: f('device'),
      klass: f('class'),
      subVendor: f('subsystem_vendor'),
      subDevice: f('subsystem_device'),
    };
  });
  const extraBase = new Map<string, { base: string; group: number | null; unit: string | null }>();
  for (const g of groups) {
    for (const name of g.devices) {
      if (!devices.has(name) && !vanished.has(name) && !extraBase.has(name))
        extraBase.set(name, {
          base: `kernel/iommu_groups/${g.id}/devices/${name}`,
          group: g.id,
          unit: null,
        });
    }
  }
  for (const u of units) {
    for (const name of u.devices) {
      const e = extraBase.get(name);
      if (e) e.unit ??= u.name;
      else if (!devices.has(name) && !vanished.has(name))
        extraBase.set(name, {
          base: `class/iommu/${u.name}/devices/${name}`,
          group: null,
          unit: u.name,
        });
    }
  }
  const extraIdx = [...extraBase].map(([name, e]) => ({
    name,
    ...e,
    self: b3.link(e.base),
    driver: b3.link(`${e.base}/driver`),
    iommu: b3.link(`${e.base}/iommu`),
    group: b3.link(`${e.base}/iommu_group`),
    subsystem: b3.link(`${e.base}/subsystem`),
    config: b3.bin(`${e.base}/config`),
    vfio: b3.dir(`${e.base}/vfio-dev`),
    groupHint: e.group,
    unitHint: e.unit,
  }));
  const r3 = b3.files.length + b3.links.length > 0 ? yield b3.request() : null;

  if (r3) {
    for (const { unit, files } of regIdx) {
      for (const { f, rel, i } of files) {
        const v = at(r3.files, i);
        if (isSysfsError(v)) unit.problems.push(problemOf(v, rel));
        else unit.registers[f] = v.trim();
      }
      const where = `class/iommu/${unit.name}/${unit.kind === 'intel-vtd' ? 'intel-iommu' : 'amd-iommu'}`;
      if (unit.kind === 'intel-vtd')
        Object.assign(unit, decodeIntelUnit(unit.registers, where, unit.problems));
      if (unit.kind === 'amd-vi')
        Object.assign(unit, decodeAmdUnit(unit.registers, where, unit.problems));
    }
    for (const x of idIdx) {
      const get = (f: { rel: string; i: number }) =>
        parseHexId(at(r3.files, f.i), f.rel, x.d.problems);
      const vendor = get(x.vendor);
      if (vendor === undefined && x.d.problems.some((p) => p.code === 'ENOENT')) {
        // Both config and vendor are gone: the device went away mid-scan.
        devices.delete(x.d.address);
        vanished.add(x.d.address);
        problems.push({
          path: `bus/pci/devices/${x.d.address}`,
          code: 'EVANISHED',
          message: `${x.d.address} disappeared during the scan (hot-unplugged or removed)`,
        });
        continue;
      }
      x.d.vendorId = vendor;
      x.d.deviceId = get(x.device);
      const klass = get(x.klass);
      if (klass !== undefined) x.d.classCode = klass;
      const sv = get(x.subVendor);
      if (sv !== undefined) x.d.subsystemVendorId = sv;
      const sd = get(x.subDevice);
      if (sd !== undefined) x.d.subsystemDeviceId = sd;
    }
    for (const x of extraIdx) {
      const self = at(r3.links, x.self);
      if (isSysfsError(self)) {
        problems.push({
          path: x.base,
          code: 'EVANISHED',
          message: `${x.name} disappeared during the scan (${self.code})`,
        });
        continue;
      }
      const dp: TopologyProblem[] = [];
      const subsystem = linkName(at(r3.links, x.subsystem), `${x.base}/subsystem`, dp);
      if (subsystem === null) {
        // Every device has a subsystem link: a dangling group link means it is gone.
        vanished.add(x.name);
        problems.push({
          path: x.base,
          code: 'EVANISHED',
          message: `${x.name} disappeared during the scan (no subsystem link)`,
        });
        continue;
      }
      const bus = subsystem === 'pci' ? 'pci' : subsystem === 'platform' ? 'platform' : 'other';
      const d = emptyDevice(x.name, resolveLink(x.base, self), bus);
      d.problems.push(...dp);
      const cfg = at(r3.binary, x.config);
      if (bus === 'pci') {
        if (isSysfsError(cfg)) d.problems.push(problemOf(cfg, `${x.base}/config`));
        else {
          const dec = decodeConfig(cfg, `${x.base}/config`);
          Object.assign(d, {
            configAccess: dec.access,
            ats: dec.ats,
            pri: dec.pri,
            pasid: dec.pasid,
            ...(dec.acs ? { acs: dec.acs } : {}),
            ...(dec.capabilities ? { capabilities: dec.capabilities } : {}),
          });
          d.problems.push(...dec.problems);
          if (dec.header) {
            d.revision = dec.header.revision;
            d.vendorId = dec.header.vendorId;
            d.deviceId = dec.header.deviceId;
            d.classCode = dec.header.classCode;
          }
        }
      }
      d.driver = linkName(at(r3.links, x.driver), `${x.base}/driver`, d.problems);
      const g = linkName(at(r3.links, x.group), `${x.base}/iommu_group`, d.problems);
      d.group = g !== null && /^\d+$/.test(g) ? Number(g) : x.groupHint;
      d.unit = linkName(at(r3.links, x.iommu), `${x.base}/iommu`, d.problems) ?? x.unitHint;
      d.vfioCdev = vfioCdev(at(r3.dirs, x.vfio), `${x.base}/vfio-dev`, d.problems);
      devices.set(d.address, d);
    }
  }

  // Fill in what links did not say from the group and unit listings, then names.
  for (const g of groups) {
    g.devices = g.devices.filter((a) => !vanished.has(a));
    for (const name of g.devices) {
      const d = devices.get(name);
      if (d && d.group === null) d.group = g.id;
    }
    g.viability = groupViability(
      g.devices.map((a) => devices.get(a)).filter((d): d is HostDevice => d !== undefined),
    );
  }
  for (const u of units) {
    u.devices = u.devices.filter((a) => !vanished.has(a));
    for (const name of unitEntries.get(u.name) ?? []) {
      const d = devices.get(name);
      if (d && d.unit === null) d.unit = u.name;
    }
  }
  if (pciIds) {
    for (const d of devices.values()) {
      if (d.vendorId === undefined) continue;
      const vn = pciIds.vendor(d.vendorId);
      if (vn !== undefined) d.vendorName = vn;
      const dn = d.deviceId === undefined ? undefined : pciIds.device(d.vendorId, d.deviceId);
      if (dn !== undefined) d.deviceName = dn;
      const cn = d.classCode === undefined ? undefined : pciIds.className(d.classCode);
      if (cn !== undefined) d.className = cn;
    }
  }

  return {
    schema: HOST_TOPOLOGY_SCHEMA,
    sysfsRoot: root,
    takenAt,
    scanMs: 0,
    units,
    groups,
    devices: [...devices.values()].sort((a, b) =>
      a.address < b.address ? -1 : a.address > b.address ? 1 : 0,
    ),
    problems,
  };
}

function setup(opts: ScanOptions) {
  const root = opts.sysfsRoot ?? opts.reader?.root ?? '/sys';
  const reader = opts.reader ?? defaultReader(root);
  const pciIds = opts.pciIds === undefined ? loadPciIds() : opts.pciIds;
  return { root, reader, pciIds };
}

/** Scan synchronously (the CLI, tests, the benchmark). */
export function scanTopology(opts: ScanOptions = {}): HostTopology {
  const { root, reader, pciIds } = setup(opts);
  const t0 = performance.now();
  const steps = scanSteps(root, pciIds);
  let next = steps.next();
  while (!next.done) next = steps.next(reader.read(next.value));
  next.value.scanMs = performance.now() - t0;
  return next.value;
}

/** Scan with the I/O off the event loop (the live watcher in the app). */
export async function scanTopologyAsync(opts: ScanOptions = {}): Promise<HostTopology> {
  const { root, reader, pciIds } = setup(opts);
  const t0 = performance.now();
  const steps = scanSteps(root, pciIds);
  let next = steps.next();
  while (!next.done) next = steps.next(await reader.readAsync(next.value));
  next.value.scanMs = performance.now() - t0;
  return next.value;
}
