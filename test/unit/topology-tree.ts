// Builds sysfs-like trees for topology tests and the sysfs benchmark: units,
// groups and devices with the same files and relative links the kernel makes,
// and PCI config space carrying ATS/PRI/PASID in chosen states.
import fs from 'node:fs';
import path from 'node:path';

export interface AtsSpec {
  enabled: boolean;
  stu?: number;
  queueDepth?: number; // raw field, 0 means 32
}
export interface PriSpec {
  enabled: boolean;
  reset?: boolean;
  status?: number; // raw status register
  capacity?: number;
  allocation?: number;
}
export interface PasidSpec {
  enabled: boolean;
  width: number;
  exec?: [supported: boolean, enabled: boolean];
  priv?: [supported: boolean, enabled: boolean];
}

export interface ConfigSpec {
  vendor: number;
  device: number;
  classCode: number;
  /** Bytes of config space the reader gets: 64 (unprivileged), 256 or 4096. */
  length?: number;
  ats?: AtsSpec;
  pri?: PriSpec;
  pasid?: PasidSpec;
  /** Place each extended capability at these offsets instead of 0x100, 0x140, ... */
  offsets?: { ats?: number; pri?: number; pasid?: number };
  /** Make the last extended capability point back at the first. */
  loop?: boolean;
}

/** A config space image; extended capabilities are chained from 0x100. */
export function makeConfig(spec: ConfigSpec): Buffer {
  const b = Buffer.alloc(4096);
  b.writeUInt16LE(spec.vendor, 0);
  b.writeUInt16LE(spec.device, 2);
  b.writeUInt16LE(0x0010, 6); // status: capability list
  b.writeUInt32LE((spec.classCode << 8) >>> 0, 8);
  b.writeUInt16LE(0x1af4, 0x2c);
  b.writeUInt16LE(0x1100, 0x2e);
  b.writeUInt8(0x40, 0x34);
  b.writeUInt8(0x10, 0x40); // PCI Express capability, last in the list
  const caps: [number, number, (off: number) => void][] = [];
  if (spec.ats) {
    const a = spec.ats;
    caps.push([
      0x0f,
      spec.offsets?.ats ?? 0,
      (o) => {
        b.writeUInt16LE((a.queueDepth ?? 0) & 0x1f, o + 4);
        b.writeUInt16LE((a.enabled ? 0x8000 : 0) | ((a.stu ?? 0) & 0x1f), o + 6);
      },
    ]);
  }
  if (spec.pri) {
    const p = spec.pri;
    caps.push([
      0x13,
      spec.offsets?.pri ?? 0,
      (o) => {
        b.writeUInt16LE((p.enabled ? 1 : 0) | (p.reset ? 2 : 0), o + 4);
        if (o + 8 <= b.length) b.writeUInt16LE(p.status ?? 0, o + 6);
        if (o + 12 <= b.length) b.writeUInt32LE(p.capacity ?? 0, o + 8);
        if (o + 16 <= b.length) b.writeUInt32LE(p.allocation ?? 0, o + 12);
      },
    ]);
  }
  if (spec.pasid) {
    const p = spec.pasid;
    caps.push([
      0x1b,
      spec.offsets?.pasid ?? 0,
      (o) => {
        const cap = ((p.width & 0x1f) << 8) | (p.exec?.[0] ? 2 : 0) | (p.priv?.[0] ? 4 : 0);
        const ctl = (p.enabled ? 1 : 0) | (p.exec?.[1] ? 2 : 0) | (p.priv?.[1] ? 4 : 0);
        b.writeUInt16LE(cap, o + 4);
        b.writeUInt16LE(ctl, o + 6);
      },
    ]);
  }
  let next = 0x100;
  const placed = caps.map(([id, at, fill]) => {
    const off = at || next;
    next = off + 0x40;
    return { id, off, fill };
  });
  placed.forEach((c, i) => {
    const following = placed[i + 1]?.off ?? (spec.loop ? placed[0]!.off : 0);
    b.writeUInt32LE(((following << 20) | (1 << 16) | c.id) >>> 0, c.off);
    c.fill(c.off);
  });
  return b.subarray(0, spec.length ?? 4096);
}

export interface DeviceSpec {
  address: string;
  config?: ConfigSpec | null; // null: no config file at all
  driver?: string;
  group?: number;
  unit?: string;
  vfioCdev?: string;
  /** Non-PCI device under devices/platform (no config, no bus/pci entry). */
  platform?: boolean;
}

export interface UnitSpec {
  name: string;
  kind: 'intel' | 'amd' | 'other';
  registers?: Record<string, string>;
}

export interface GroupSpec {
  id: number;
  type?: string;
  reservedRegions?: string;
}

export interface TreeSpec {
  units: UnitSpec[];
  groups: GroupSpec[];
  devices: DeviceSpec[];
}

function write(root: string, rel: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), data);
}

function link(root: string, rel: string, targetRel: string): void {
  const at = path.join(root, rel);
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(path.relative(path.dirname(at), path.join(root, targetRel)), at);
}

const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}\n`;

export function devicePath(d: DeviceSpec): string {
  return d.platform ? `devices/platform/${d.address}` : `devices/pci0000:00/${d.address}`;
}

/** Writes the tree under `root` (which must not exist yet or be empty). */
export function buildTree(root: string, spec: TreeSpec): void {
  fs.mkdirSync(path.join(root, 'class/iommu'), { recursive: true });
  fs.mkdirSync(path.join(root, 'kernel/iommu_groups'), { recursive: true });
  fs.mkdirSync(path.join(root, 'bus/pci/devices'), { recursive: true });
  for (const u of spec.units) {
    const dir = `devices/virtual/iommu/${u.name}`;
    write(root, `${dir}/uevent`, '');
    const sub = u.kind === 'intel' ? 'intel-iommu' : u.kind === 'amd' ? 'amd-iommu' : undefined;
    if (sub)
      for (const [f, v] of Object.entries(u.registers ?? {}))
        write(root, `${dir}/${sub}/${f}`, `${v}\n`);
    link(root, `class/iommu/${u.name}`, dir);
  }
  for (const g of spec.groups) {
    const dir = `kernel/iommu_groups/${g.id}`;
    write(root, `${dir}/type`, `${g.type ?? 'DMA'}\n`);
    write(
      root,
      `${dir}/reserved_regions`,
      g.reservedRegions ?? '0x00000000fee00000 0x00000000feefffff msi\n',
    );
    fs.mkdirSync(path.join(root, dir, 'devices'), { recursive: true });
  }
  for (const d of spec.devices) {
    const dir = devicePath(d);
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    if (d.platform) {
      link(root, `${dir}/subsystem`, 'bus/platform');
    } else {
      link(root, `bus/pci/devices/${d.address}`, dir);
      link(root, `${dir}/subsystem`, 'bus/pci');
      const c = d.config;
      if (c) {
        write(root, `${dir}/config`, makeConfig(c));
        write(root, `${dir}/vendor`, hex(c.vendor, 4));
        write(root, `${dir}/device`, hex(c.device, 4));
        write(root, `${dir}/class`, hex(c.classCode, 6));
      }
    }
    if (d.driver)
      link(root, `${dir}/driver`, `bus/${d.platform ? 'platform' : 'pci'}/drivers/${d.driver}`);
    if (d.group !== undefined) {
      link(root, `${dir}/iommu_group`, `kernel/iommu_groups/${d.group}`);
      link(root, `kernel/iommu_groups/${d.group}/devices/${d.address}`, dir);
    }
    if (d.unit !== undefined) {
      link(root, `${dir}/iommu`, `devices/virtual/iommu/${d.unit}`);
      link(root, `devices/virtual/iommu/${d.unit}/devices/${d.address}`, dir);
    }
    if (d.vfioCdev) write(root, `${dir}/vfio-dev/${d.vfioCdev}/dev`, '511:0\n');
  }
}

// VT-d registers of a unit with scalable mode, PASID (20 bits), PRS, nested,
// first and second level: the capabilities SVA needs.
export const SVA_CAPABLE_VTD = {
  version: '6:0',
  address: 'fed91000',
  cap: '19ff07a800730606',
  ecap: '3ef9ee6f000df',
  domains_supported: '65536',
  domains_used: '3',
};

// AMD-Vi: IotlbSup + EFRSup; EFR with PPR, GT, PASmax 15 (16 bits), GIoSup.
export const AMD_WITH_PPR = { cap: '0903400f', features: '1000f00005bde:0' };

/** The hand-made tree committed as test/fixtures/sysfs-caps. */
export function capsTreeSpec(): TreeSpec {
  const base = { vendor: 0x8086, device: 0x0b25, classCode: 0x088000 };
  return {
    units: [
      { name: 'dmar1', kind: 'intel', registers: SVA_CAPABLE_VTD },
      { name: 'ivhd0', kind: 'amd', registers: AMD_WITH_PPR },
      { name: 'smmu3.0x0000000009050000', kind: 'other' },
    ],
    groups: [
      { id: 10, type: 'DMA-FQ' },
      { id: 11, type: 'identity' },
      {
        id: 12,
        type: 'DMA',
        reservedRegions:
          '0x00000000fee00000 0x00000000feefffff msi\n0x0000000000000000 0x0000000000ffffff direct-relaxable\n',
      },
      { id: 13 },
      { id: 14, type: 'blocked' },
    ],
    devices: [
      // everything on
      {
        address: '0000:01:00.0',
        driver: 'idxd',
        group: 10,
        unit: 'dmar1',
        config: {
          ...base,
          ats: { enabled: true, stu: 0, queueDepth: 0 },
          pri: { enabled: true, capacity: 512, allocation: 256 },
          pasid: { enabled: true, width: 20, exec: [true, true], priv: [true, true] },
        },
      },
      // supported but off, unbound
      {
        address: '0000:01:00.1',
        group: 10,
        unit: 'dmar1',
        config: {
          ...base,
          ats: { enabled: false, queueDepth: 8, stu: 2 },
          pri: { enabled: false, capacity: 32 },
          pasid: { enabled: false, width: 16, exec: [true, false] },
        },
      },
      // PRI with every status bit, bound to vfio-pci with a cdev
      {
        address: '0000:02:00.0',
        driver: 'vfio-pci',
        vfioCdev: 'vfio3',
        group: 12,
        unit: 'ivhd0',
        config: {
          ...base,
          device: 0x1234,
          ats: { enabled: true },
          pri: { enabled: true, reset: true, status: 0x8103, capacity: 64, allocation: 64 },
          pasid: { enabled: true, width: 8 },
        },
      },
      // unprivileged read: 64 bytes only
      {
        address: '0000:03:00.0',
        driver: 'nvme',
        group: 13,
        unit: 'ivhd0',
        config: {
          vendor: 0x144d,
          device: 0xa808,
          classCode: 0x010802,
          length: 64,
          ats: { enabled: true },
        },
      },
      // PCIe without extended capabilities
      {
        address: '0000:04:00.0',
        group: 11,
        unit: 'dmar1',
        config: { vendor: 0x8086, device: 0x10d3, classCode: 0x020000 },
      },
      // PRI placed so it runs past the end of config space
      {
        address: '0000:05:00.0',
        group: 11,
        unit: 'dmar1',
        config: {
          ...base,
          ats: { enabled: false },
          pri: { enabled: true },
          offsets: { pri: 0xff8 },
        },
      },
      // extended capability list that loops
      {
        address: '0000:06:00.0',
        group: 11,
        unit: 'dmar1',
        config: {
          ...base,
          ats: { enabled: true },
          pasid: { enabled: false, width: 5 },
          loop: true,
        },
      },
      // a non-PCI device behind the SMMU, bound to vfio-platform
      {
        address: 'soc:dma@1000',
        platform: true,
        driver: 'vfio-platform',
        group: 14,
        unit: 'smmu3.0x0000000009050000',
      },
    ],
  };
}

if (require.main === module) {
  const dest = process.argv[2];
  if (!dest) {
    console.error('usage: topology-tree.js DEST   (writes the sysfs-caps fixture tree)');
    process.exit(2);
  }
  buildTree(dest, capsTreeSpec());
}
