// Copies the IOMMU-relevant part of a sysfs tree into DEST, keeping symlinks
// as the same relative links, so the copy scans like the original:
//   node dist/test/vm-guest/topology-capture.js DEST [SYSFS_ROOT]
// Used inside the VM to make test/fixtures/sysfs-vtd*. Copies class/iommu,
// kernel/iommu_groups, bus/pci/devices and the devices, units and driver
// folders their links point to (only the attributes the scanner reads).
import fs from 'node:fs';
import path from 'node:path';

const DEVICE_FILES = [
  'vendor',
  'device',
  'class',
  'subsystem_vendor',
  'subsystem_device',
  'revision',
];
const DEVICE_LINKS = ['driver', 'iommu', 'iommu_group', 'subsystem'];

export function captureSysfs(src: string, dest: string): number {
  let copied = 0;
  const done = new Set<string>();
  const abs = (root: string, rel: string) => path.join(root, rel);

  const copyFile = (rel: string) => {
    let data: Buffer;
    try {
      data = fs.readFileSync(abs(src, rel));
    } catch {
      return; // not every device has every attribute
    }
    fs.mkdirSync(path.dirname(abs(dest, rel)), { recursive: true });
    fs.writeFileSync(abs(dest, rel), data);
    copied++;
  };

  // Recreates the link and makes sure what it points to exists in the copy.
  const copyLink = (rel: string, follow: (targetRel: string) => void) => {
    let target: string;
    try {
      target = fs.readlinkSync(abs(src, rel));
    } catch {
      return;
    }
    fs.mkdirSync(path.dirname(abs(dest, rel)), { recursive: true });
    fs.symlinkSync(target, abs(dest, rel));
    copied++;
    const targetRel = path.relative(src, fs.realpathSync(abs(src, rel)));
    follow(targetRel);
  };

  const ensureDir = (rel: string) => fs.mkdirSync(abs(dest, rel), { recursive: true });

  const copyUnit = (rel: string) => {
    if (done.has(rel)) return;
    done.add(rel);
    ensureDir(rel);
    copyFile(`${rel}/uevent`); // keeps the folder non-empty, so git keeps it
    for (const sub of ['intel-iommu', 'amd-iommu']) {
      let names: string[];
      try {
        names = fs.readdirSync(abs(src, `${rel}/${sub}`));
      } catch {
        continue;
      }
      for (const n of names) copyFile(`${rel}/${sub}/${n}`);
    }
    ensureDir(`${rel}/devices`);
    let devs: string[] = [];
    try {
      devs = fs.readdirSync(abs(src, `${rel}/devices`));
    } catch {
      /* a unit without devices */
    }
    for (const d of devs) copyLink(`${rel}/devices/${d}`, copyDevice);
  };

  const copyGroup = (rel: string) => {
    if (done.has(rel)) return;
    done.add(rel);
    ensureDir(`${rel}/devices`);
    copyFile(`${rel}/type`);
    copyFile(`${rel}/reserved_regions`);
    for (const d of fs.readdirSync(abs(src, `${rel}/devices`)))
      copyLink(`${rel}/devices/${d}`, copyDevice);
  };

  function copyDevice(rel: string): void {
    if (done.has(rel)) return;
    done.add(rel);
    ensureDir(rel);
    for (const f of DEVICE_FILES) copyFile(`${rel}/${f}`);
    copyFile(`${rel}/config`);
    for (const l of DEVICE_LINKS) {
      copyLink(`${rel}/${l}`, (t) => {
        if (l === 'iommu') copyUnit(t);
        else if (l === 'iommu_group') copyGroup(t);
        else ensureDir(t); // driver and subsystem folders: existence is enough
      });
    }
    let cdevs: string[] = [];
    try {
      cdevs = fs.readdirSync(abs(src, `${rel}/vfio-dev`));
    } catch {
      /* not bound to VFIO */
    }
    for (const c of cdevs) copyFile(`${rel}/vfio-dev/${c}/dev`); // a file, so git keeps the folder
  }

  for (const top of ['class/iommu', 'kernel/iommu_groups', 'bus/pci/devices']) {
    ensureDir(top);
    let names: string[];
    try {
      names = fs.readdirSync(abs(src, top));
    } catch {
      continue;
    }
    for (const n of names) {
      if (top === 'kernel/iommu_groups') copyGroup(`${top}/${n}`);
      else copyLink(`${top}/${n}`, top === 'class/iommu' ? copyUnit : copyDevice);
    }
  }
  return copied;
}

if (require.main === module) {
  const [dest, src = '/sys'] = process.argv.slice(2);
  if (!dest) {
    console.error('usage: topology-capture.js DEST [SYSFS_ROOT]');
    process.exit(2);
  }
  if (fs.existsSync(dest) && fs.readdirSync(dest).length) {
    console.error(`topology-capture: ${dest} is not empty; give a new folder`);
    process.exit(1);
  }
  const n = captureSysfs(src, dest);
  console.log(`topology-capture: ${n} files and links copied from ${src} to ${dest}`);
}
