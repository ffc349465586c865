// Decoding of struct iommu_hwpt_pgfault (40 bytes, little-endian, include/uapi/linux/iommufd.h):
//   u32 flags, u32 dev_id, u32 pasid, u32 grpid, u32 perm, u32 __reserved,
//   u64 addr, u32 length, u32 cookie
// Pure TS (no Node APIs): the renderer decodes the same bytes.

export const FAULT_RECORD_BYTES = 40;

/** Records are little-endian; on such a host their words can be viewed in place. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const FaultFlag = {
  PasidValid: 1 << 0,
  LastPage: 1 << 1,
} as const;

export const Perm = {
  Read: 1 << 0,
  Write: 1 << 1,
  Exec: 1 << 2,
  Priv: 1 << 3,
} as const;

/** Field offsets inside one record. */
export const RecordOffset = {
  flags: 0,
  devId: 4,
  pasid: 8,
  grpid: 12,
  perm: 16,
  reserved: 20,
  addr: 24,
  length: 32,
  cookie: 36,
} as const;

export interface FaultRecord {
  flags: number;
  devId: number;
  pasid: number;
  grpid: number;
  perm: number;
  reserved: number;
  /** High and low 32 bits of the address (exact; no bigint across IPC). */
  addrHi: number;
  addrLo: number;
  /** '0x…' lowercase hex. */
  addr: string;
  length: number;
  cookie: number;
}

/** Decode the record at `offset` bytes into `data`. Throws RangeError when it does not fit. */
export function decodeFaultRecord(data: DataView | ArrayBuffer, offset = 0): FaultRecord {
  const view = data instanceof DataView ? data : new DataView(data);
  if (offset < 0 || offset + FAULT_RECORD_BYTES > view.byteLength) {
    throw new RangeError(
      `fault record at byte ${offset} does not fit in ${view.byteLength} bytes (records are ${FAULT_RECORD_BYTES} bytes)`,
    );
  }
  const u32 = (o: number): number => view.getUint32(offset + o, true);
  const addrLo = u32(RecordOffset.addr);
  const addrHi = u32(RecordOffset.addr + 4);
  return {
    flags: u32(RecordOffset.flags),
    devId: u32(RecordOffset.devId),
    pasid: u32(RecordOffset.pasid),
    grpid: u32(RecordOffset.grpid),
    perm: u32(RecordOffset.perm),
    reserved: u32(RecordOffset.reserved),
    addrHi,
    addrLo,
    addr: formatAddr(addrHi, addrLo),
    length: u32(RecordOffset.length),
    cookie: u32(RecordOffset.cookie),
  };
}

/** Decode every whole record in `data`. */
export function decodeFaultRecords(data: ArrayBuffer): FaultRecord[] {
  const view = new DataView(data);
  const out: FaultRecord[] = [];
  for (let off = 0; off + FAULT_RECORD_BYTES <= data.byteLength; off += FAULT_RECORD_BYTES) {
    out.push(decodeFaultRecord(view, off));
  }
  return out;
}

/** Encode one record (used by tests and the renderer's fixtures). */
export function encodeFaultRecord(
  r: Omit<FaultRecord, 'addr' | 'reserved'> & { reserved?: number },
  into: DataView = new DataView(new ArrayBuffer(FAULT_RECORD_BYTES)),
  offset = 0,
): DataView {
  const set = (o: number, v: number): void => into.setUint32(offset + o, v >>> 0, true);
  set(RecordOffset.flags, r.flags);
  set(RecordOffset.devId, r.devId);
  set(RecordOffset.pasid, r.pasid);
  set(RecordOffset.grpid, r.grpid);
  set(RecordOffset.perm, r.perm);
  set(RecordOffset.reserved, r.reserved ?? 0);
  set(RecordOffset.addr, r.addrLo);
  set(RecordOffset.addr + 4, r.addrHi);
  set(RecordOffset.length, r.length);
  set(RecordOffset.cookie, r.cookie);
  return into;
}

/** '0x' + lowercase hex of a 64-bit address given as two u32 halves. */
export function formatAddr(hi: number, lo: number): string {
  if (hi === 0) return `0x${(lo >>> 0).toString(16)}`;
  return `0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}

/** The address as a double (exact below 2^53, which covers every 57-bit VA). */
export function addrToNumber(hi: number, lo: number): number {
  return (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0);
}

/** Flag names, e.g. ['PASID_VALID', 'LAST_PAGE']; unknown bits as 'BIT<n>'. */
export function flagNames(flags: number): string[] {
  const out: string[] = [];
  if (flags & FaultFlag.PasidValid) out.push('PASID_VALID');
  if (flags & FaultFlag.LastPage) out.push('LAST_PAGE');
  for (let bit = 2; bit < 32; bit++) if ((flags >>> bit) & 1) out.push(`BIT${bit}`);
  return out;
}

const permLetters: [string, number][] = [
  ['r', Perm.Read],
  ['w', Perm.Write],
  ['x', Perm.Exec],
  ['p', Perm.Priv],
];

/** 'rw', 'rwxp', '-' for none; unknown bits appended as '+0x..'. */
export function permString(perm: number): string {
  let s = '';
  for (const [letter, bit] of permLetters) if (perm & bit) s += letter;
  const unknown = (perm & ~0xf) >>> 0;
  if (unknown) s += `+0x${unknown.toString(16)}`;
  return s || '-';
}

/**
 * Parse 'r', 'rw', 'rwx', 'wp' ... (r=read, w=write, x=exec, p=priv) into
 * IOMMU_PGFAULT_PERM_* bits. Returns an error message instead of throwing.
 */
export function parsePerm(text: string): number | string {
  if (text.length === 0) return 'empty permission: use letters r, w, x (exec), p (priv), e.g. rw';
  let bits = 0;
  for (const ch of text) {
    const entry = permLetters.find(([l]) => l === ch);
    if (!entry)
      return `unknown permission letter '${ch}' in '${text}': use r, w, x (exec), p (priv)`;
    if (bits & entry[1]) return `permission letter '${ch}' repeated in '${text}'`;
    bits |= entry[1];
  }
  return bits;
}
