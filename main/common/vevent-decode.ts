// Decoders for the type-specific data of a vEVENT (what follows struct
// iommufd_vevent_header in a vEVENTQ read), per include/uapi/linux/iommufd.h
// (7.3) and iommufd_test.h:
//   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3     struct iommu_vevent_arm_smmuv3 { le64 evt[4] }:
//                                     the SMMUv3 event record (SMMUv3 spec 7.3
//                                     "Event records"), StreamID = the vDEVICE's virtual id
//   IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV struct iommu_vevent_tegra241_cmdqv { le64 lvcmdq_err_map[2] }:
//                                     one bit per logical vCMDQ of the VINTF in error
//   IOMMU_VEVENTQ_TYPE_SELFTEST       struct iommu_viommu_event_selftest { u32 virt_id }
// Pure: bytes in, plain data out (crosses IPC and JSON unchanged).
import { SMMU_EVENT_IDS } from './activity/arm-smmu-v3';

export const VeventType = {
  ArmSmmuv3: 1,
  Tegra241Cmdqv: 2,
  Selftest: 0xbeefbeef,
} as const;

/** Bytes of data after each header, per vEVENTQ type (fixed by the uAPI struct). */
export function veventDataBytes(type: number): number | undefined {
  if (type === VeventType.ArmSmmuv3) return 32;
  if (type === VeventType.Tegra241Cmdqv) return 16;
  if (type === VeventType.Selftest) return 4;
  return undefined;
}

export function veventTypeName(type: number): string {
  if (type === VeventType.ArmSmmuv3) return 'ARM SMMUv3';
  if (type === VeventType.Tegra241Cmdqv) return 'Tegra241 CMDQV';
  if (type === VeventType.Selftest) return 'selftest';
  return `type 0x${(type >>> 0).toString(16)}`;
}

export type VeventFieldValue = string | number | boolean;

export interface DecodedVevent {
  /** Event kind: 'F_TRANSLATION', 'C_BAD_STE', 'LVCMDQ error', 'selftest', 'event 0x42' ... */
  kind: string;
  /** One line for tables and text output. */
  summary: string;
  /** The virtual device id the event names (SMMUv3 StreamID, selftest virt_id), a decimal string. */
  virtId?: string;
  /** Every decoded field; 64-bit addresses as '0x…' strings. */
  fields: Record<string, VeventFieldValue>;
  /** Problems with the data itself (wrong length). */
  notes?: string[];
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
const bits = (v: bigint, lo: number, width: number): bigint =>
  (v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n);
const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

function u64s(data: Uint8Array, count: number): bigint[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: count }, (_, i) => v.getBigUint64(i * 8, true));
}

function wrongLength(kind: string, want: number, data: Uint8Array): DecodedVevent {
  return {
    kind,
    summary: `${kind}: ${data.byteLength} bytes of data, expected ${want}`,
    fields: { bytes: data.byteLength },
    notes: [`the ${kind} event data is ${want} bytes; got ${data.byteLength}`],
  };
}

/** Events whose record carries the input address and the access that faulted. */
const ADDRESS_EVENTS = new Set([0x10, 0x11, 0x12, 0x13, 0x0b, 0x05, 0x07]);
/** Events whose record carries the address of a structure the SMMU failed to fetch. */
const FETCH_EVENTS = new Set([0x03, 0x09, 0x0b, 0x25]);
/** Event record CLASS (dword 1, bits 41:40): which stage of the walk faulted. */
const SMMU_CLASS = ['CD', 'TT', 'IN', 'reserved'] as const;

/**
 * struct iommu_vevent_arm_smmuv3: the 256-bit SMMUv3 event record. Layout
 * (SMMUv3 spec 7.3; drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h EVTQ_*):
 * dword 0: [7:0] event id, [11] SSV, [31:12] SubstreamID, [63:32] StreamID;
 * dword 1: [15:0] STAG, [31] Stall, [33] PnU, [34] InD, [35] RnW, [39] S2,
 * [41:40] CLASS; dword 2: input address; dword 3: [51:12] IPA (stage-2
 * faults) or [51:3] the fetch address.
 */
export function decodeSmmuv3Event(data: Uint8Array): DecodedVevent {
  if (data.byteLength !== 32) return wrongLength('ARM SMMUv3', 32, data);
  const [d0, d1, d2, d3] = u64s(data, 4) as [bigint, bigint, bigint, bigint];
  const id = Number(bits(d0, 0, 8));
  const known = SMMU_EVENT_IDS[id];
  const kind = known?.name ?? `event 0x${id.toString(16).padStart(2, '0')}`;
  const sid = Number(bits(d0, 32, 32));
  const ssv = bit(d0, 11);
  const ssid = Number(bits(d0, 12, 20));
  const fields: Record<string, VeventFieldValue> = {
    eventId: hex(id),
    event: kind,
    streamId: hex(sid),
    ssv,
  };
  if (ssv) fields.substreamId = hex(ssid);
  if (known) fields.meaning = known.meaning;
  let summary = `${kind} sid ${hex(sid)}${ssv ? ` ssid ${hex(ssid)}` : ''}`;
  if (ADDRESS_EVENTS.has(id)) {
    const rnw = bit(d1, 35);
    const ind = bit(d1, 34);
    const pnu = bit(d1, 33);
    const s2 = bit(d1, 39);
    const cls = SMMU_CLASS[Number(bits(d1, 40, 2))]!;
    const stall = bit(d1, 31);
    Object.assign(fields, {
      inputAddress: hex(d2),
      access: rnw ? 'read' : 'write',
      instruction: ind,
      privileged: pnu,
      stage: s2 ? 2 : 1,
      class: cls,
      stall,
    });
    if (stall) fields.stag = hex(bits(d1, 0, 16));
    if (s2) fields.ipa = hex(bits(d3, 12, 40) << 12n);
    summary +=
      ` ${rnw ? 'read' : 'write'} ${ind ? 'insn' : 'data'} ${pnu ? 'priv' : 'unpriv'}` +
      ` addr ${hex(d2)} s${s2 ? 2 : 1} ${cls}${stall ? ` stall stag ${hex(bits(d1, 0, 16))}` : ''}`;
    if (s2) summary += ` ipa ${String(fields.ipa)}`;
  }
  if (FETCH_EVENTS.has(id)) {
    fields.fetchAddress = hex(bits(d3, 3, 49) << 3n);
    summary += ` fetch ${String(fields.fetchAddress)}`;
  }
  return { kind, summary, virtId: String(sid), fields };
}

/**
 * struct iommu_vevent_tegra241_cmdqv: the VINTF's 128-bit LVCMDQ_ERR_MAP, bit
 * n set when logical vCMDQ n of this vIOMMU is in error.
 */
export function decodeTegra241Event(data: Uint8Array): DecodedVevent {
  if (data.byteLength !== 16) return wrongLength('Tegra241 CMDQV', 16, data);
  const [lo, hi] = u64s(data, 2) as [bigint, bigint];
  const queues: number[] = [];
  for (let n = 0; n < 128; n++) if (bit(n < 64 ? lo : hi, n % 64)) queues.push(n);
  const list = queues.join(',');
  return {
    kind: 'LVCMDQ error',
    summary: queues.length ? `LVCMDQ error: vCMDQ ${list}` : 'LVCMDQ error map empty',
    fields: {
      errMap: `0x${hi.toString(16).padStart(16, '0')}${lo.toString(16).padStart(16, '0')}`,
      queues: list,
      count: queues.length,
    },
  };
}

/** struct iommu_viommu_event_selftest { u32 virt_id }: the vDEVICE's virtual id. */
export function decodeSelftestEvent(data: Uint8Array): DecodedVevent {
  if (data.byteLength !== 4) return wrongLength('selftest', 4, data);
  const v = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  return {
    kind: 'selftest',
    summary: `selftest virt id ${hex(v)}`,
    virtId: String(v),
    fields: {},
  };
}

/** Decode one vEVENT's data by its queue's type; unknown types keep the raw bytes only. */
export function decodeVevent(type: number, data: Uint8Array): DecodedVevent {
  if (type === VeventType.ArmSmmuv3) return decodeSmmuv3Event(data);
  if (type === VeventType.Tegra241Cmdqv) return decodeTegra241Event(data);
  if (type === VeventType.Selftest) return decodeSelftestEvent(data);
  return {
    kind: veventTypeName(type),
    summary: `${veventTypeName(type)}: ${data.byteLength} bytes`,
    fields: { bytes: data.byteLength },
    notes: [`no decoder for vEVENTQ ${veventTypeName(type)}`],
  };
}
