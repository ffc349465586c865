// IOMMU_GET_HW_INFO, decoded: the common header (type, PASID width,
// out_capabilities) and one decoder per info type in 7.3's iommufd.h
// (hw-info-*.ts). Pure data in and out (hex strings, no bigint) so it
// crosses IPC unchanged. Each decoder reads only the bytes the kernel filled
// (data_len): an older kernel's shorter struct decodes the fields it has, a
// newer kernel's longer one is decoded up to what we know and says so.
import type { UnitFeature } from './host-topology';
import { decodeAmdHwInfo } from './hw-info-amd';
import { decodeSelftestHwInfo } from './hw-info-selftest';
import { decodeSmmuv3HwInfo } from './hw-info-smmuv3';
import { decodeTegra241HwInfo } from './hw-info-tegra241';
import { decodeVtdHwInfo } from './hw-info-vtd';

/** What the addon returned, JSON-safe. */
export interface HwInfoRaw {
  dataType: number;
  /** Bytes the kernel filled in (data_len on return). */
  dataLen: number;
  maxPasidLog2: number;
  /** out_capabilities, '0x…'. */
  capabilities: string;
  /** The type-specific struct, hex, as long as data_len (or our buffer). */
  data: string;
}

export interface HwCapabilities {
  dirtyTracking: boolean;
  /** Only meaningful when the device has PASIDs (maxPasidLog2 > 0). */
  pasidExec: boolean;
  pasidPriv: boolean;
  /** Set: ATS is not supported or cannot be used on this device (7.3+). */
  atsNotSupported: boolean;
  /** Bits we do not know, '0x…' ('0x0' when none). */
  unknownBits: string;
}

export interface DecodedHwInfo {
  dataType: number;
  typeName: string;
  maxPasidLog2: number;
  /** 2^maxPasidLog2, or 0 when the device or its IOMMU has no PASID support. */
  pasids: number;
  capabilities: HwCapabilities;
  fields: UnitFeature[];
  /** Things that did not fit: short data, unknown type, reserved bits set. */
  notes: string[];
}

/** One decoder: the type-specific bytes (exactly data_len long) → fields. */
export type HwInfoDecoder = (data: DataView, notes: string[]) => UnitFeature[];

export const HW_INFO_TYPES: Record<number, { name: string; decode: HwInfoDecoder }> = {
  1: { name: 'Intel VT-d', decode: decodeVtdHwInfo },
  2: { name: 'ARM SMMUv3', decode: decodeSmmuv3HwInfo },
  3: { name: 'NVIDIA Tegra241 CMDQV', decode: decodeTegra241HwInfo },
  4: { name: 'AMD IOMMU', decode: decodeAmdHwInfo },
  0xfeedbeef: { name: 'iommufd selftest', decode: decodeSelftestHwInfo },
};

const CAP = { dirty: 1n, exec: 2n, priv: 4n, noAts: 8n } as const;

export function decodeCapabilities(hex: string): HwCapabilities {
  const v = BigInt(hex);
  return {
    dirtyTracking: (v & CAP.dirty) !== 0n,
    pasidExec: (v & CAP.exec) !== 0n,
    pasidPriv: (v & CAP.priv) !== 0n,
    atsNotSupported: (v & CAP.noAts) !== 0n,
    unknownBits: `0x${(v & ~0xfn).toString(16)}`,
  };
}

function hexBytes(hex: string): Uint8Array {
  const clean = hex.length % 2 ? `0${hex}` : hex;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function decodeHwInfo(raw: HwInfoRaw): DecodedHwInfo {
  const notes: string[] = [];
  const bytes = hexBytes(raw.data);
  if (raw.dataLen > bytes.length)
    notes.push(`the kernel reported ${raw.dataLen} bytes of info; ${bytes.length} were kept`);
  const used = bytes.subarray(0, Math.min(raw.dataLen, bytes.length));
  const view = new DataView(used.buffer, used.byteOffset, used.byteLength);
  const known = HW_INFO_TYPES[raw.dataType];
  let fields: UnitFeature[] = [];
  if (raw.dataType === 0) notes.push('the IOMMU driver reports no hardware info (type NONE)');
  else if (!known) notes.push(`unknown info type 0x${raw.dataType.toString(16)}: not decoded`);
  else fields = known.decode(view, notes);
  const capabilities = decodeCapabilities(raw.capabilities);
  if (capabilities.unknownBits !== '0x0')
    notes.push(`unknown out_capabilities bits ${capabilities.unknownBits}`);
  return {
    dataType: raw.dataType,
    typeName: raw.dataType === 0 ? 'none' : (known?.name ?? 'unknown'),
    maxPasidLog2: raw.maxPasidLog2,
    pasids: raw.maxPasidLog2 ? 2 ** raw.maxPasidLog2 : 0,
    capabilities,
    fields,
    notes,
  };
}

/** Little-endian reads that stop at the data the kernel filled; null past its end. */
export function u32At(v: DataView, off: number): number | null {
  return off + 4 <= v.byteLength ? v.getUint32(off, true) : null;
}

export function u64At(v: DataView, off: number): bigint | null {
  return off + 8 <= v.byteLength ? v.getBigUint64(off, true) : null;
}

/** Notes a struct shorter or longer than the one we know. */
export function checkSize(v: DataView, expected: number, what: string, notes: string[]): void {
  if (v.byteLength < expected)
    notes.push(
      `${what}: ${v.byteLength} of ${expected} bytes (older kernel): decoded what is there`,
    );
  else if (v.byteLength > expected)
    notes.push(
      `${what}: ${v.byteLength} bytes, ${expected} known (newer kernel): the rest not decoded`,
    );
}

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}
