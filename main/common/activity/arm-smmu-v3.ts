// Arm SMMUv3 event queue records as drivers/iommu/arm/arm-smmu-v3 logs them
// (dev_err/dev_info of the SMMU platform device, "arm-smmu-v3 <dev>: "):
//   "event 0x10 received:" then four "\t0x%016llx" raw dwords (every kernel),
//   newer kernels then "event: F_TRANSLATION client: 0000:00:01.0 sid: 0x8 ssid: 0x0 iova: 0x... ipa: 0x..."
//   and, for translation faults, "unpriv data read s1 \"Input address caused fault\" stag: 0x0".
// Event ids and record layout: SMMUv3 spec, 7.3 "Event records".
import type { DmaAccess } from './types';

export const SMMU_EVENT_IDS: Record<number, { name: string; meaning: string }> = {
  0x01: { name: 'F_UUT', meaning: 'an unsupported upstream transaction' },
  0x02: {
    name: 'C_BAD_STREAMID',
    meaning: 'the StreamID is beyond the stream table: the device is not known to the SMMU',
  },
  0x03: { name: 'F_STE_FETCH', meaning: 'the stream table entry could not be fetched' },
  0x04: { name: 'C_BAD_STE', meaning: 'the stream table entry is invalid' },
  0x05: { name: 'F_BAD_ATS_TREQ', meaning: 'an ATS translation request the STE does not allow' },
  0x06: { name: 'F_STREAM_DISABLED', meaning: 'a transaction on a disabled stream' },
  0x07: {
    name: 'F_TRANSL_FORBIDDEN',
    meaning: 'a translated transaction while ATS is not enabled',
  },
  0x08: {
    name: 'C_BAD_SUBSTREAMID',
    meaning: 'the SubstreamID (PASID) is beyond the context descriptor table',
  },
  0x09: { name: 'F_CD_FETCH', meaning: 'the context descriptor could not be fetched' },
  0x0a: {
    name: 'C_BAD_CD',
    meaning: 'the context descriptor is invalid (e.g. the PASID is not attached)',
  },
  0x0b: { name: 'F_WALK_EABT', meaning: 'an external abort during the table walk' },
  0x10: { name: 'F_TRANSLATION', meaning: 'the address is not mapped (no valid translation)' },
  0x11: {
    name: 'F_ADDR_SIZE',
    meaning: 'the address is beyond the configured input or output size',
  },
  0x12: { name: 'F_ACCESS', meaning: 'the access flag of the page is clear' },
  0x13: { name: 'F_PERMISSION', meaning: 'the mapping does not allow this access' },
  0x20: { name: 'F_TLB_CONFLICT', meaning: 'conflicting TLB entries' },
  0x21: { name: 'F_CFG_CONFLICT', meaning: 'conflicting configuration cache entries' },
  0x24: { name: 'E_PAGE_REQUEST', meaning: 'a speculative page request' },
  0x25: { name: 'F_VMS_FETCH', meaning: 'the virtual machine structure could not be fetched' },
};

const PREFIX = /^(arm-smmu-v3|arm_smmu_v3|arm-smmu-v3-\S+) (\S+): (.*)$/;

export type SmmuLine =
  | { kind: 'raw-start'; unit: string; id: number }
  | { kind: 'raw-dword'; unit: string; value: bigint }
  | {
      kind: 'event';
      unit: string;
      name: string;
      client: string | null;
      sid: number;
      ssid: number;
      iova: string | null;
      ipa: string | null;
      fetchAddr: string | null;
    }
  | { kind: 'attributes'; unit: string; access: DmaAccess; attrs: Record<string, string | boolean> }
  | { kind: 'other'; unit: string; text: string };

export function looksLikeSmmu(message: string): boolean {
  return PREFIX.test(message);
}

const num = (s: string) => parseInt(s, 16);
const hexOf = (s: string) => `0x${BigInt(s).toString(16)}`;

/** Classifies one SMMUv3 line; null when it is an SMMU line of a known kind that is truncated. */
export function parseSmmuLine(message: string): SmmuLine | null {
  const p = PREFIX.exec(message);
  if (!p) return null;
  const unit = p[2]!;
  const text = p[3]!;
  let m = /^event 0x([0-9a-f]{2}) received:$/i.exec(text);
  if (m) return { kind: 'raw-start', unit, id: num(m[1]!) };
  m = /^\s*0x([0-9a-f]{16})$/i.exec(text);
  if (m) return { kind: 'raw-dword', unit, value: BigInt(`0x${m[1]}`) };
  if (text.startsWith('event: ')) {
    // %#x prints zero as "0", not "0x0".
    const h = '(0|0x[0-9a-f]+)';
    m = new RegExp(
      `^event: (\\S+) client: (.+?) sid: ${h} ssid: ${h}(?: iova: ${h} ipa: ${h}| fetch_addr: ${h})?$`,
      'i',
    ).exec(text);
    if (!m) return null;
    return {
      kind: 'event',
      unit,
      name: m[1]!,
      client: m[2] === '(unassigned sid)' ? null : m[2]!,
      sid: Number(m[3]!),
      ssid: Number(m[4]!),
      iova: m[5] ? hexOf(m[5]) : null,
      ipa: m[6] ? hexOf(m[6]) : null,
      fetchAddr: m[7] ? hexOf(m[7]) : null,
    };
  }
  m =
    /^(priv|unpriv) (inst|data) (read|write) (s1|s2) "([^"]*)"( ttd_read| ttd_write)?( stall)? stag: (0|0x[0-9a-f]+)$/i.exec(
      text,
    );
  if (m) {
    return {
      kind: 'attributes',
      unit,
      access: m[2] === 'inst' ? 'exec' : m[3] === 'read' ? 'read' : 'write',
      attrs: {
        privileged: m[1] === 'priv',
        instruction: m[2] === 'inst',
        stage: m[4]!,
        class: m[5]!,
        tableWalk: m[6]?.trim() ?? '',
        stall: !!m[7],
        stag: hexOf(m[8]!),
      },
    };
  }
  if (/^(priv|unpriv) /.test(text)) return null;
  return { kind: 'other', unit, text };
}

/** Decodes the four raw dwords (older kernels print nothing else). */
export function decodeSmmuRecord(dw: bigint[]): {
  id: number;
  name: string;
  meaning: string;
  sid: number;
  ssid: number | null;
  addr: string | null;
  access: DmaAccess;
  attrs: Record<string, string | boolean>;
} {
  const [d0 = 0n, d1 = 0n, d2 = 0n, d3 = 0n] = dw;
  const id = Number(d0 & 0xffn);
  const known = SMMU_EVENT_IDS[id];
  const ssv = ((d0 >> 11n) & 1n) === 1n;
  const isAddressFault = id >= 0x10 && id <= 0x13;
  const attrs: Record<string, string | boolean> = {};
  let access: DmaAccess = 'unknown';
  let addr: string | null = null;
  if (isAddressFault) {
    const rnw = ((d1 >> 35n) & 1n) === 1n;
    const ind = ((d1 >> 34n) & 1n) === 1n;
    access = ind ? 'exec' : rnw ? 'read' : 'write';
    attrs.privileged = ((d1 >> 33n) & 1n) === 1n;
    attrs.stage = ((d1 >> 39n) & 1n) === 1n ? 's2' : 's1';
    attrs.stall = ((d1 >> 31n) & 1n) === 1n;
    attrs.stag = `0x${(d1 & 0xffffn).toString(16)}`;
    attrs.ipa = `0x${(d3 & 0x000ffffffffff000n).toString(16)}`;
    addr = `0x${d2.toString(16)}`;
  } else if (id === 0x03 || id === 0x09 || id === 0x25) {
    addr = `0x${(d3 & 0x000ffffffffffff8n).toString(16)}`;
    attrs.fetch = true;
  }
  return {
    id,
    name: known?.name ?? 'UNKNOWN',
    meaning: known?.meaning ?? `event id 0x${id.toString(16)} is not in the SMMUv3 tables we know`,
    sid: Number(d0 >> 32n),
    ssid: ssv ? Number((d0 >> 12n) & 0xfffffn) : null,
    addr,
    access,
    attrs,
  };
}

/** The event id for a name printed by the kernel ('F_TRANSLATION' -> 0x10). */
export function smmuEventId(name: string): number | null {
  for (const [id, e] of Object.entries(SMMU_EVENT_IDS)) if (e.name === name) return Number(id);
  return null;
}
