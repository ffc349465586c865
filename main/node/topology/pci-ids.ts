// Names from the pci.ids database (/usr/share/misc/pci.ids), parsed once
// per file and cached: vendors, devices, classes and subclasses.
import { MiB, readBoundedText } from '../bounded-read';

export const DEFAULT_PCI_IDS = '/usr/share/misc/pci.ids';
/** pci.ids is about 1.4 MiB today; leave room for growth, not for a runaway file. */
const PCI_IDS_MAX_BYTES = 16 * MiB;

export interface PciIds {
  vendor(vendorId: number): string | undefined;
  device(vendorId: number, deviceId: number): string | undefined;
  /** Most specific name of a 24-bit class code: prog-if, else subclass, else class. */
  className(classCode: number): string | undefined;
}

interface Vendor {
  name: string;
  devices: Map<number, string>;
}

/** Parses pci.ids text; lines it does not understand are skipped. */
export function parsePciIds(text: string): PciIds {
  const vendors = new Map<number, Vendor>();
  const classes = new Map<number, string>(); // keys: 0xCC, 0xCCSS, 0xCCSSPP tagged below
  let vendor: Vendor | undefined;
  let klass: number | undefined;
  let sub: number | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('C ')) {
      const m = /^C ([0-9a-f]{2})\s+(.*)$/.exec(line);
      vendor = undefined;
      klass = m ? parseInt(m[1] ?? '', 16) : undefined;
      sub = undefined;
      if (m && klass !== undefined) classes.set(0x1000000 | klass, m[2] ?? '');
      continue;
    }
    if (line.startsWith('\t\t')) {
      if (klass !== undefined && sub !== undefined) {
        const m = /^\t\t([0-9a-f]{2})\s+(.*)$/.exec(line);
        if (m)
          classes.set(
            0x3000000 | (klass << 16) | (sub << 8) | parseInt(m[1] ?? '', 16),
            m[2] ?? '',
          );
      }
      continue; // subsystem lines: not shown
    }
    if (line.startsWith('\t')) {
      if (vendor) {
        const m = /^\t([0-9a-f]{4})\s+(.*)$/.exec(line);
        if (m) vendor.devices.set(parseInt(m[1] ?? '', 16), m[2] ?? '');
      } else if (klass !== undefined) {
        const m = /^\t([0-9a-f]{2})\s+(.*)$/.exec(line);
        if (m) {
          sub = parseInt(m[1] ?? '', 16);
          classes.set(0x2000000 | (klass << 8) | sub, m[2] ?? '');
        }
      }
      continue;
    }
    const m = /^([0-9a-f]{4})\s+(.*)$/.exec(line);
    klass = undefined;
    sub = undefined;
    if (m) {
      vendor = { name: m[2] ?? '', devices: new Map() };
      vendors.set(parseInt(m[1] ?? '', 16), vendor);
    } else {
      vendor = undefined;
    }
  }
  return {
    vendor: (v) => vendors.get(v)?.name,
    device: (v, d) => vendors.get(v)?.devices.get(d),
    className: (c) => {
      const base = (c >> 16) & 0xff;
      const subclass = (c >> 8) & 0xff;
      return (
        classes.get(0x3000000 | (c & 0xffffff)) ??
        classes.get(0x2000000 | (base << 8) | subclass) ??
        classes.get(0x1000000 | base)
      );
    },
  };
}

const cache = new Map<string, PciIds | null>();

/** The database at `file`, or null when it is not there or unreadable (names are optional). */
export function loadPciIds(file = DEFAULT_PCI_IDS): PciIds | null {
  const hit = cache.get(file);
  if (hit !== undefined) return hit;
  let ids: PciIds | null;
  try {
    ids = parsePciIds(readBoundedText(file, PCI_IDS_MAX_BYTES, 'the PCI ID database'));
  } catch {
    ids = null;
  }
  cache.set(file, ids);
  return ids;
}
