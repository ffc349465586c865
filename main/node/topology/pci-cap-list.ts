// Every capability of a device's config space, the way `lspci -vvv` lists
// them: the standard list (from 0x34) and the PCIe extended list (from
// 0x100), each entry named and, for the ones a fault-monitoring user reads
// (power state, MSI/MSI-X, PCIe link, SR-IOV, serial number), its key fields
// decoded. ATS, PRI, PASID and ACS have their own full objects on the device;
// here they are listed in place with a one-line summary.
import type { PciCapability } from '../../common/host-topology';

const STD_NAMES: Record<number, string> = {
  0x01: 'Power Management',
  0x02: 'AGP',
  0x03: 'Vital Product Data',
  0x04: 'Slot Identification',
  0x05: 'MSI',
  0x06: 'CompactPCI Hot Swap',
  0x07: 'PCI-X',
  0x08: 'HyperTransport',
  0x09: 'Vendor Specific',
  0x0a: 'Debug port',
  0x0b: 'CompactPCI central resource control',
  0x0c: 'PCI Hot-plug',
  0x0d: 'Subsystem (bridge)',
  0x0e: 'AGP 8x',
  0x0f: 'Secure Device',
  0x10: 'PCI Express',
  0x11: 'MSI-X',
  0x12: 'SATA HBA',
  0x13: 'PCI Advanced Features',
  0x14: 'Enhanced Allocation',
  0x15: 'Flattening Portal Bridge',
};

const EXT_NAMES: Record<number, string> = {
  0x01: 'Advanced Error Reporting',
  0x02: 'Virtual Channel',
  0x03: 'Device Serial Number',
  0x04: 'Power Budgeting',
  0x05: 'Root Complex Link Declaration',
  0x06: 'Root Complex Internal Link Control',
  0x07: 'Root Complex Event Collector',
  0x08: 'Multi-Function VC',
  0x09: 'Virtual Channel (MFVC)',
  0x0a: 'RCRB Header',
  0x0b: 'Vendor Specific Extended',
  0x0c: 'Configuration Access Correlation',
  0x0d: 'Access Control Services',
  0x0e: 'Alternative Routing-ID Interpretation',
  0x0f: 'Address Translation Service',
  0x10: 'SR-IOV',
  0x11: 'MR-IOV',
  0x12: 'Multicast',
  0x13: 'Page Request Interface',
  0x15: 'Resizable BAR',
  0x16: 'Dynamic Power Allocation',
  0x17: 'TPH Requester',
  0x18: 'Latency Tolerance Reporting',
  0x19: 'Secondary PCI Express',
  0x1a: 'Protocol Multiplexing',
  0x1b: 'Process Address Space ID',
  0x1c: 'LN Requester',
  0x1d: 'Downstream Port Containment',
  0x1e: 'L1 PM Substates',
  0x1f: 'Precision Time Measurement',
  0x20: 'M-PCIe',
  0x21: 'FRS Queueing',
  0x22: 'Readiness Time Reporting',
  0x23: 'Designated Vendor-Specific',
  0x24: 'VF Resizable BAR',
  0x25: 'Data Link Feature',
  0x26: 'Physical Layer 16.0 GT/s',
  0x27: 'Lane Margining at the Receiver',
  0x28: 'Hierarchy ID',
  0x29: 'Native PCIe Enclosure Management',
  0x2a: 'Physical Layer 32.0 GT/s',
  0x2b: 'Alternate Protocol',
  0x2c: 'System Firmware Intermediary',
  0x2e: 'Data Object Exchange',
  0x30: 'Integrity and Data Encryption',
};

const PCIE_PORT_TYPES: Record<number, string> = {
  0: 'Endpoint',
  1: 'Legacy Endpoint',
  4: 'Root Port',
  5: 'Upstream Port',
  6: 'Downstream Port',
  7: 'PCIe-to-PCI bridge',
  8: 'PCI-to-PCIe bridge',
  9: 'Root Complex Integrated Endpoint',
  10: 'Root Complex Event Collector',
};

const LINK_SPEEDS = ['?', '2.5GT/s', '5GT/s', '8GT/s', '16GT/s', '32GT/s', '64GT/s'];

const onOff = (v: number, bit: number): string => ((v >> bit) & 1 ? '+' : '-');

type Decoder = (cfg: DataView, off: number) => string[];

function fits(cfg: DataView, off: number, bytes: number): boolean {
  return off + bytes <= cfg.byteLength;
}

const decodePm: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 6)) return [];
  const pmc = cfg.getUint16(off + 2, true);
  const pmcsr = cfg.getUint16(off + 4, true);
  return [`version ${pmc & 7}`, `state D${pmcsr & 3}`, `NoSoftRst${onOff(pmcsr, 3)}`];
};

const decodeMsi: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 4)) return [];
  const ctl = cfg.getUint16(off + 2, true);
  return [
    `Enable${onOff(ctl, 0)}`,
    `count ${1 << ((ctl >> 4) & 7)}/${1 << ((ctl >> 1) & 7)}`,
    `64bit${onOff(ctl, 7)}`,
    `Maskable${onOff(ctl, 8)}`,
  ];
};

const decodeMsix: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 12)) return [];
  const ctl = cfg.getUint16(off + 2, true);
  const table = cfg.getUint32(off + 4, true);
  const pba = cfg.getUint32(off + 8, true);
  const loc = (v: number): string => `BAR ${v & 7} offset 0x${((v & ~7) >>> 0).toString(16)}`;
  return [
    `Enable${onOff(ctl, 15)}`,
    `Masked${onOff(ctl, 14)}`,
    `table size ${(ctl & 0x7ff) + 1}`,
    `table ${loc(table)}`,
    `PBA ${loc(pba)}`,
  ];
};

const decodePcie: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 0x14)) return [];
  const caps = cfg.getUint16(off + 2, true);
  const type = (caps >> 4) & 0xf;
  const lnkCap = cfg.getUint32(off + 0x0c, true);
  const lnkSta = cfg.getUint16(off + 0x12, true);
  const speed = (v: number): string => LINK_SPEEDS[v & 0xf] ?? `speed ${v & 0xf}`;
  const out = [`v${caps & 0xf} ${PCIE_PORT_TYPES[type] ?? `type ${type}`}`];
  // Integrated endpoints have no link.
  if (type !== 9 && type !== 10 && lnkCap !== 0) {
    out.push(
      `link ${speed(lnkSta)} x${(lnkSta >> 4) & 0x3f} (capable ${speed(lnkCap)} x${(lnkCap >> 4) & 0x3f})`,
    );
  }
  return out;
};

const decodeSriov: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 0x14)) return [];
  const ctl = cfg.getUint16(off + 8, true);
  return [
    `VF Enable${onOff(ctl, 0)}`,
    `VFs ${cfg.getUint16(off + 0x10, true)}/${cfg.getUint16(off + 0x0e, true)} (enabled/total)`,
  ];
};

const decodeDsn: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 12)) return [];
  const lo = cfg.getUint32(off + 4, true);
  const hi = cfg.getUint32(off + 8, true);
  const hex = hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  return [`serial ${hex.replace(/(..)(?!$)/g, '$1-')}`];
};

const decodeAts: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 8)) return [];
  const ctl = cfg.getUint16(off + 6, true);
  return [`Enable${onOff(ctl, 15)}`, `STU ${ctl & 0x1f}`];
};

const decodePri: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 8)) return [];
  const ctl = cfg.getUint16(off + 4, true);
  const sta = cfg.getUint16(off + 6, true);
  return [
    `Enable${onOff(ctl, 0)}`,
    `RF${onOff(sta, 0)} UPRGI${onOff(sta, 1)} Stopped${onOff(sta, 8)} PASID-required${onOff(sta, 15)}`,
  ];
};

const decodePasid: Decoder = (cfg, off) => {
  if (!fits(cfg, off, 8)) return [];
  const cap = cfg.getUint16(off + 4, true);
  const ctl = cfg.getUint16(off + 6, true);
  return [`Enable${onOff(ctl, 0)}`, `width ${(cap >> 8) & 0x1f}`];
};

const STD_DECODERS: Record<number, Decoder> = {
  0x01: decodePm,
  0x05: decodeMsi,
  0x10: decodePcie,
  0x11: decodeMsix,
};
const EXT_DECODERS: Record<number, Decoder> = {
  0x03: decodeDsn,
  0x0f: decodeAts,
  0x10: decodeSriov,
  0x13: decodePri,
  0x1b: decodePasid,
};

/** The standard capability list (needs 256 bytes of config space; empty otherwise). */
function standardList(cfg: DataView): PciCapability[] {
  const out: PciCapability[] = [];
  if (cfg.byteLength < 256 || (cfg.getUint16(0x06, true) & 0x10) === 0) return out;
  const seen = new Set<number>();
  let ptr = cfg.getUint8(0x34) & 0xfc;
  // 48 capabilities fill the 192 bytes after the header; the set catches loops.
  while (ptr >= 0x40 && !seen.has(ptr) && out.length < 48) {
    seen.add(ptr);
    const id = cfg.getUint8(ptr);
    out.push({
      space: 'std',
      id,
      offset: ptr,
      name: STD_NAMES[id] ?? `unknown capability 0x${id.toString(16).padStart(2, '0')}`,
      fields: STD_DECODERS[id]?.(cfg, ptr) ?? [],
    });
    ptr = cfg.getUint8(ptr + 1) & 0xfc;
  }
  return out;
}

/** The extended list from 0x100 (needs 4096 bytes; malformed lists end where they break). */
function extendedList(cfg: DataView): PciCapability[] {
  const out: PciCapability[] = [];
  if (cfg.byteLength < 4096) return out;
  const seen = new Set<number>();
  let off = 0x100;
  while (off >= 0x100 && off % 4 === 0 && off + 4 <= cfg.byteLength && !seen.has(off)) {
    seen.add(off);
    const hdr = cfg.getUint32(off, true);
    if (hdr === 0 || hdr === 0xffffffff) break;
    const id = hdr & 0xffff;
    out.push({
      space: 'ext',
      id,
      offset: off,
      version: (hdr >>> 16) & 0xf,
      name: EXT_NAMES[id] ?? `unknown extended capability 0x${id.toString(16).padStart(4, '0')}`,
      fields: EXT_DECODERS[id]?.(cfg, off) ?? [],
    });
    off = (hdr >>> 20) & 0xffc;
  }
  return out;
}

/**
 * Both capability lists of `cfg`, standard first, each in list order.
 * Undefined when only the 64-byte header is readable: then the list is
 * unknown, not empty. (Problems with the list are reported by decodeConfig.)
 */
export function capabilityList(cfg: DataView): PciCapability[] | undefined {
  if (cfg.byteLength < 256) return undefined;
  return [...standardList(cfg), ...extendedList(cfg)];
}
