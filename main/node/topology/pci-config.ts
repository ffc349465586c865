// PCI config space decoding: the header fields we show, the standard
// capability list (to tell PCIe from conventional PCI) and the extended
// capability list for ATS (0x0F), PRI (0x13) and PASID (0x1B).
//
// Unprivileged reads of sysfs `config` stop at 64 bytes (128 for CardBus):
// then the capabilities are unknown, not absent, and we say so.
import type {
  AtsState,
  ConfigAccess,
  PasidState,
  AcsState,
  PciCapability,
  PriState,
  TopologyProblem,
} from '../../common/host-topology';
import { capabilityList } from './pci-cap-list';

export const EXT_CAP_ATS = 0x0f;
export const EXT_CAP_PRI = 0x13;
export const EXT_CAP_PASID = 0x1b;
export const EXT_CAP_ACS = 0x0d;
const CAP_ID_PCIE = 0x10;
const HEADER_BYTES = 64;
const LEGACY_BYTES = 256;
const EXTENDED_BYTES = 4096;

export interface PciHeader {
  vendorId: number;
  deviceId: number;
  classCode: number;
  headerType: number;
  revision: number;
  subsystemVendorId?: number;
  subsystemDeviceId?: number;
}

export interface DecodedConfig {
  access: ConfigAccess;
  header?: PciHeader;
  ats: AtsState;
  pri: PriState;
  pasid: PasidState;
  /** Only with full (4096-byte) config space. */
  acs?: AcsState;
  /** Both capability lists; only when at least 256 bytes could be read. */
  capabilities?: PciCapability[];
  problems: TopologyProblem[];
}

export function decodeHeader(cfg: DataView): PciHeader | undefined {
  if (cfg.byteLength < HEADER_BYTES) return undefined;
  const headerType = cfg.getUint8(0x0e) & 0x7f;
  const h: PciHeader = {
    vendorId: cfg.getUint16(0x00, true),
    deviceId: cfg.getUint16(0x02, true),
    classCode: cfg.getUint32(0x08, true) >>> 8,
    revision: cfg.getUint8(0x08),
    headerType,
  };
  if (headerType === 0) {
    h.subsystemVendorId = cfg.getUint16(0x2c, true);
    h.subsystemDeviceId = cfg.getUint16(0x2e, true);
  }
  return h;
}

/** True when the standard capability list has a PCI Express capability. */
export function hasPcieCapability(cfg: DataView): boolean {
  if (cfg.byteLength < LEGACY_BYTES) return false;
  const status = cfg.getUint16(0x06, true);
  if ((status & 0x10) === 0) return false;
  let ptr = cfg.getUint8(0x34) & 0xfc;
  // 48 is the most capabilities that fit in 192 bytes; guards against loops.
  for (let i = 0; i < 48 && ptr >= 0x40; i++) {
    if (cfg.getUint8(ptr) === CAP_ID_PCIE) return true;
    ptr = cfg.getUint8(ptr + 1) & 0xfc;
  }
  return false;
}

/** Offsets of extended capabilities by id (first instance), walking from 0x100. */
export function extendedCapabilities(
  cfg: DataView,
  problems: TopologyProblem[],
  where: string,
): Map<number, number> {
  const found = new Map<number, number>();
  let off = 0x100;
  const seen = new Set<number>();
  while (off !== 0) {
    if (off < 0x100 || off % 4 !== 0 || off + 4 > cfg.byteLength) {
      problems.push({
        path: where,
        code: 'EPARSE',
        message: `${where}: extended capability pointer 0x${off.toString(16)} is outside config space`,
      });
      break;
    }
    if (seen.has(off)) {
      problems.push({
        path: where,
        code: 'EPARSE',
        message: `${where}: extended capability list loops at 0x${off.toString(16)}`,
      });
      break;
    }
    seen.add(off);
    const hdr = cfg.getUint32(off, true);
    // 0 (no capabilities) or all-ones (device gone or not responding) ends it.
    if (hdr === 0 || hdr === 0xffffffff) break;
    const id = hdr & 0xffff;
    if (!found.has(id)) found.set(id, off);
    off = (hdr >>> 20) & 0xffc;
  }
  return found;
}

function need(cfg: DataView, off: number, bytes: number): boolean {
  return off + bytes <= cfg.byteLength;
}

export function decodeAts(cfg: DataView, off: number | undefined): AtsState {
  if (off === undefined) return { supported: false, enabled: false };
  if (!need(cfg, off, 8)) return truncated(off);
  const cap = cfg.getUint16(off + 4, true);
  const ctl = cfg.getUint16(off + 6, true);
  const depth = cap & 0x1f;
  return {
    supported: true,
    enabled: (ctl & 0x8000) !== 0,
    offset: off,
    stu: ctl & 0x1f,
    invalidateQueueDepth: depth === 0 ? 32 : depth,
    pageAlignedRequest: (cap & 0x20) !== 0,
    globalInvalidate: (cap & 0x40) !== 0,
  };
}

export function decodePri(cfg: DataView, off: number | undefined): PriState {
  if (off === undefined) return { supported: false, enabled: false };
  if (!need(cfg, off, 16)) return truncated(off);
  const ctl = cfg.getUint16(off + 4, true);
  const status = cfg.getUint16(off + 6, true);
  return {
    supported: true,
    enabled: (ctl & 0x1) !== 0,
    offset: off,
    reset: (ctl & 0x2) !== 0,
    status: {
      responseFailure: (status & 0x1) !== 0,
      uprgi: (status & 0x2) !== 0,
      stopped: (status & 0x100) !== 0,
      prgResponsePasidRequired: (status & 0x8000) !== 0,
    },
    outstandingCapacity: cfg.getUint32(off + 8, true),
    outstandingAllocation: cfg.getUint32(off + 12, true),
  };
}

export function decodePasid(cfg: DataView, off: number | undefined): PasidState {
  if (off === undefined) return { supported: false, enabled: false };
  if (!need(cfg, off, 8)) return truncated(off);
  const cap = cfg.getUint16(off + 4, true);
  const ctl = cfg.getUint16(off + 6, true);
  return {
    supported: true,
    enabled: (ctl & 0x1) !== 0,
    offset: off,
    maxWidth: (cap >> 8) & 0x1f,
    execSupported: (cap & 0x2) !== 0,
    execEnabled: (ctl & 0x2) !== 0,
    privSupported: (cap & 0x4) !== 0,
    privEnabled: (ctl & 0x4) !== 0,
  };
}

/** ACS capability and control bits, in register order (PCIe base spec, ACS Extended Capability). */
export const ACS_BITS = [
  'SrcValid',
  'TransBlk',
  'ReqRedir',
  'CmpltRedir',
  'UpstreamFwd',
  'EgressCtrl',
  'DirectTrans',
] as const;

export function decodeAcs(cfg: DataView, off: number | undefined): AcsState {
  if (off === undefined)
    return { supported: false, enabled: false, capabilities: [], controls: [] };
  if (!need(cfg, off, 8))
    return { supported: null, enabled: null, offset: off, capabilities: [], controls: [] };
  const cap = cfg.getUint16(off + 4, true);
  const ctrl = cfg.getUint16(off + 6, true);
  const names = (v: number) => ACS_BITS.filter((_, i) => (v >> i) & 1);
  return {
    supported: true,
    enabled: (ctrl & 0x7f) !== 0,
    offset: off,
    capabilities: names(cap),
    controls: names(ctrl),
  };
}

function truncated(off: number): {
  supported: true;
  enabled: null;
  offset: number;
  unknown: string;
} {
  return {
    supported: true,
    enabled: null,
    offset: off,
    unknown: `capability at 0x${off.toString(16)} runs past the end of the config space read`,
  };
}

function unknownAll(why: string): Pick<DecodedConfig, 'ats' | 'pri' | 'pasid'> {
  const u = { supported: null, enabled: null, unknown: why };
  return { ats: { ...u }, pri: { ...u }, pasid: { ...u } };
}

/**
 * Decodes what could be read of one device's config space. `where` is the
 * sysfs path of the `config` file, for problems.
 */
export function decodeConfig(bytes: ArrayBuffer, where: string): DecodedConfig {
  const cfg = new DataView(bytes);
  const problems: TopologyProblem[] = [];
  const len = cfg.byteLength;
  if (len < HEADER_BYTES) {
    problems.push({
      path: where,
      code: 'ETRUNC',
      message: `${where}: only ${len} bytes of config space (the header alone is 64)`,
    });
    return { access: 'none', problems, ...unknownAll('config space could not be read') };
  }
  const header = decodeHeader(cfg);
  if (len < LEGACY_BYTES) {
    // The kernel cuts unprivileged reads at 64 bytes (128 for CardBus).
    return {
      access: 'header-only',
      header,
      problems,
      ...unknownAll(
        `only ${len} bytes of config space are readable: reading past 64 bytes needs ` +
          'CAP_SYS_ADMIN (for a one-off full read: sudo iommuscope groups; the dashboard stays unprivileged)',
      ),
    };
  }
  const capabilities = capabilityList(cfg);
  const listed = capabilities ? { capabilities } : {};
  if (len < EXTENDED_BYTES) {
    if (hasPcieCapability(cfg)) {
      return {
        access: 'legacy',
        header,
        problems,
        ...listed,
        ...unknownAll(
          'PCI Express device, but its extended config space (past 256 bytes) is not ' +
            'accessible (no ECAM/MMCONFIG?)',
        ),
      };
    }
    // Conventional PCI: extended capabilities cannot exist.
    const none = { supported: false, enabled: false };
    return {
      access: 'legacy',
      header,
      problems,
      ...listed,
      ats: none,
      pri: { ...none },
      pasid: { ...none },
    };
  }
  const caps = extendedCapabilities(cfg, problems, where);
  return {
    access: 'full',
    header,
    problems,
    ...listed,
    ats: decodeAts(cfg, caps.get(EXT_CAP_ATS)),
    pri: decodePri(cfg, caps.get(EXT_CAP_PRI)),
    pasid: decodePasid(cfg, caps.get(EXT_CAP_PASID)),
    acs: decodeAcs(cfg, caps.get(EXT_CAP_ACS)),
  };
}
