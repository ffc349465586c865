// Turns the kernel log, record by record, into activity events. A fault
// may span several records (Intel's table-walk dump, SMMUv3's raw dwords
// then decoded lines), so the decoder holds at most one partial fault per
// vendor/unit until the next unrelated record or flush() (the caller's
// timer, a few hundred ms after the last record, so a fault never waits).
// Every IOMMU line ends up in exactly one event: a fault, a suppressed
// count, an iommu-message, or unparsed with its raw text.
import { parseAmdEvent, looksLikeAmdEvent } from './amd-vi';
import {
  decodeSmmuRecord,
  looksLikeSmmu,
  parseSmmuLine,
  smmuEventId,
  SMMU_EVENT_IDS,
} from './arm-smmu-v3';
import { intelFaultReason } from './intel-fault-reasons';
import {
  endsWalk,
  looksLikeIntelFault,
  parseIntelFault,
  parseWalkLine,
  parseWalkStart,
} from './intel-dmar';
import { KmsgSequence, parseKmsgRecord, unescapeKmsg, type KmsgRecord } from './kmsg';
import type { DmaFault, IommuVendor, KmsgActivity } from './types';

export interface KmsgCounters {
  records: number;
  iommuLines: number;
  faults: number;
  unparsed: number;
  /** Sum of "N callbacks suppressed". */
  suppressed: number;
  duplicates: number;
  missed: number;
}

interface PendingSmmu {
  fault: DmaFault;
  dwords: bigint[];
  haveEvent: boolean;
}

const VENDOR_PREFIX: [RegExp, IommuVendor][] = [
  [/^DMAR(-IR)?: /, 'intel'],
  [/^(\S+ \S+: )?AMD-Vi: /, 'amd'],
  [/^arm-smmu-v3/, 'arm'],
];

/** SMMU events that print a second (attributes) line. */
function isAddressFault(name: string): boolean {
  return /^F_(TRANSLATION|ADDR_SIZE|ACCESS|PERMISSION)$/.test(name);
}

function vendorOf(message: string): IommuVendor | null {
  for (const [re, v] of VENDOR_PREFIX) if (re.test(message)) return v;
  return null;
}

function suppressedVendor(fn: string): IommuVendor | null {
  if (/dmar|intel|prq/i.test(fn)) return 'intel';
  if (/amd/i.test(fn) || fn === 'iommu_print_event') return 'amd';
  if (/smmu/i.test(fn)) return 'arm';
  return null;
}

/** '00:05.0' -> '0000:00:05.0'; full addresses kept. */
function withSegment(bdf: string): string {
  return /^[0-9a-f]{4}:/.test(bdf) ? bdf : `0000:${bdf}`;
}

export class KmsgDecoder {
  readonly counters: KmsgCounters = {
    records: 0,
    iommuLines: 0,
    faults: 0,
    unparsed: 0,
    suppressed: 0,
    duplicates: 0,
    missed: 0,
  };
  private readonly sequence = new KmsgSequence();
  private intel: { fault: DmaFault; walkStarted: boolean } | null = null;
  private readonly smmu = new Map<string, PendingSmmu>();

  /** The newest sequence number accepted (to resume without reading twice). */
  get lastSeq(): number | null {
    return this.sequence.lastSeq;
  }

  /** One record as read from /dev/kmsg. */
  push(text: string): KmsgActivity[] {
    this.counters.records++;
    const parsed = parseKmsgRecord(text);
    if (!parsed.ok) {
      this.counters.unparsed++;
      return [
        ...this.flush(),
        { type: 'unparsed', source: 'kmsg', reason: parsed.reason, raw: text, seq: null },
      ];
    }
    return this.pushRecord(parsed.record);
  }

  pushRecord(record: KmsgRecord): KmsgActivity[] {
    const out: KmsgActivity[] = [];
    const verdict = this.sequence.check(record.seq);
    if (verdict.kind === 'duplicate') {
      this.counters.duplicates++;
      return out;
    }
    if (verdict.kind === 'gap') {
      this.counters.missed += verdict.missed;
      out.push(...this.flush(), {
        type: 'kmsg-gap',
        from: verdict.from,
        to: verdict.to,
        missed: verdict.missed,
      });
    }
    const message = unescapeKmsg(record.message);
    if (this.continuesIntel(message, out)) return out;
    if (this.continuesSmmu(message, out)) return out;
    out.push(...this.flush());
    this.startNew(message, record, out);
    return out;
  }

  /** Emits whatever is held (call on a timer and at the end). */
  flush(): KmsgActivity[] {
    const out: KmsgActivity[] = [];
    if (this.intel) {
      out.push(this.intel.fault);
      this.intel = null;
    }
    for (const p of this.smmu.values()) out.push(this.finishSmmu(p));
    this.smmu.clear();
    return out;
  }

  /** True when something is held and a flush timer should run. */
  get pending(): boolean {
    return this.intel !== null || this.smmu.size > 0;
  }

  private continuesIntel(message: string, out: KmsgActivity[]): boolean {
    const held = this.intel;
    if (!held) return false;
    const start = parseWalkStart(message);
    if (start && !held.walkStarted && start.addr === held.fault.addr) {
      held.walkStarted = true;
      held.fault.unit = start.unit;
      held.fault.raw.push(message);
      this.counters.iommuLines++;
      return true;
    }
    if (!held.walkStarted) return false;
    const step = parseWalkLine(message);
    if (!step) return false;
    this.counters.iommuLines++;
    held.fault.walk.push(step);
    held.fault.raw.push(message);
    if (endsWalk(step)) {
      // Nothing more belongs to this fault: hand it out now, not at the next record.
      out.push(held.fault);
      this.intel = null;
    }
    return true;
  }

  private continuesSmmu(message: string, out: KmsgActivity[]): boolean {
    if (!looksLikeSmmu(message)) return false;
    const line = parseSmmuLine(message);
    if (!line) return false;
    const held = this.smmu.get(line.unit);
    if (line.kind === 'raw-start') return false;
    if (!held) return false;
    this.counters.iommuLines++;
    if (line.kind === 'raw-dword' && held.dwords.length < 4 && !held.haveEvent) {
      held.dwords.push(line.value);
      held.fault.raw.push(message);
      return true;
    }
    if (line.kind === 'event' && !held.haveEvent) {
      held.haveEvent = true;
      held.fault.raw.push(message);
      this.applySmmuEvent(held.fault, line);
      if (!isAddressFault(line.name)) {
        out.push(this.finishSmmu(held));
        this.smmu.delete(line.unit);
      }
      return true;
    }
    if (line.kind === 'attributes' && held.haveEvent) {
      held.fault.raw.push(message);
      held.fault.access = line.access;
      Object.assign(held.fault.extra, line.attrs);
      out.push(this.finishSmmu(held));
      this.smmu.delete(line.unit);
      return true;
    }
    this.counters.iommuLines--;
    return false;
  }

  private startNew(message: string, record: KmsgRecord, out: KmsgActivity[]): void {
    const base = { bootUs: record.usec, seq: record.seq };
    const sup = /^(.+?): (\d+) callbacks suppressed$/.exec(message);
    if (sup) {
      const count = Number(sup[2]);
      this.counters.suppressed += count;
      out.push({
        type: 'suppressed',
        source: sup[1]!,
        vendor: suppressedVendor(sup[1]!),
        count,
        ...base,
      });
      return;
    }
    const vendor = vendorOf(message) ?? (looksLikeAmdEvent(message) ? 'amd' : null);
    if (!vendor) return;
    this.counters.iommuLines++;
    if (vendor === 'intel') return this.startIntel(message, record, out);
    if (vendor === 'amd') return this.startAmd(message, record, out);
    return this.startSmmu(message, record, out);
  }

  private unparsed(out: KmsgActivity[], reason: string, message: string, seq: number): void {
    this.counters.unparsed++;
    out.push({ type: 'unparsed', source: 'kmsg', reason, raw: message, seq });
  }

  private newFault(vendor: IommuVendor, record: KmsgRecord, message: string): DmaFault {
    return {
      type: 'dma-fault',
      vendor,
      unit: null,
      device: null,
      streamId: null,
      pasid: null,
      addr: '0x0',
      access: 'unknown',
      reason: null,
      reasonName: '',
      reasonText: '',
      meaning: '',
      walk: [],
      extra: {},
      bootUs: record.usec,
      seq: record.seq,
      raw: [message],
    };
  }

  private startIntel(message: string, record: KmsgRecord, out: KmsgActivity[]): void {
    const f = parseIntelFault(message);
    if (!f) {
      if (looksLikeIntelFault(message))
        return this.unparsed(
          out,
          'Intel fault line did not decode (truncated?)',
          message,
          record.seq,
        );
      out.push({
        type: 'iommu-message',
        vendor: 'intel',
        level: record.level,
        text: message,
        bootUs: record.usec,
        seq: record.seq,
      });
      return;
    }
    const reason = intelFaultReason(f.reason);
    const fault = this.newFault('intel', record, message);
    fault.device = withSegment(f.bdf);
    fault.pasid = f.pasid;
    fault.addr = f.addr;
    fault.access = f.access;
    fault.reason = f.reason;
    fault.reasonName = reason.name;
    fault.reasonText = f.reasonText;
    fault.meaning = reason.meaning;
    if (f.interruptIndex) fault.extra.interruptIndex = true;
    this.counters.faults++;
    this.intel = { fault, walkStarted: false };
  }

  private startAmd(message: string, record: KmsgRecord, out: KmsgActivity[]): void {
    if (!looksLikeAmdEvent(message)) {
      out.push({
        type: 'iommu-message',
        vendor: 'amd',
        level: record.level,
        text: message,
        bootUs: record.usec,
        seq: record.seq,
      });
      return;
    }
    const e = parseAmdEvent(message);
    if (!e)
      return this.unparsed(
        out,
        'AMD-Vi event line did not decode (truncated?)',
        message,
        record.seq,
      );
    const fault = this.newFault('amd', record, message);
    fault.unit = e.unit;
    fault.device = e.device;
    fault.pasid = e.pasid;
    fault.addr = e.addr ?? '0x0';
    fault.access = e.access;
    fault.reason = e.code;
    fault.reasonName = e.eventName;
    fault.reasonText = e.eventName;
    fault.meaning = e.meaning;
    for (const [k, v] of Object.entries(e.fields))
      if (k !== 'device' && k !== 'address') fault.extra[k] = v;
    if (e.flagNames.length) fault.extra.flagNames = e.flagNames.join(',');
    this.counters.faults++;
    out.push(fault);
  }

  private startSmmu(message: string, record: KmsgRecord, out: KmsgActivity[]): void {
    const line = parseSmmuLine(message);
    if (!line)
      return this.unparsed(
        out,
        'SMMUv3 event line did not decode (truncated?)',
        message,
        record.seq,
      );
    if (line.kind === 'raw-start' || line.kind === 'event') {
      const fault = this.newFault('arm', record, message);
      fault.unit = line.unit;
      const held: PendingSmmu = { fault, dwords: [], haveEvent: false };
      if (line.kind === 'raw-start') {
        fault.reason = line.id;
        const known = SMMU_EVENT_IDS[line.id];
        fault.reasonName = known?.name ?? 'UNKNOWN';
        fault.meaning = known?.meaning ?? '';
      } else {
        held.haveEvent = true;
        this.applySmmuEvent(fault, line);
      }
      this.counters.faults++;
      if (line.kind === 'event' && !isAddressFault(line.name)) out.push(this.finishSmmu(held));
      else this.smmu.set(line.unit, held);
      return;
    }
    if (line.kind === 'other') {
      out.push({
        type: 'iommu-message',
        vendor: 'arm',
        level: record.level,
        text: message,
        bootUs: record.usec,
        seq: record.seq,
      });
      return;
    }
    this.unparsed(out, `SMMUv3 ${line.kind} line without its event`, message, record.seq);
  }

  private applySmmuEvent(
    fault: DmaFault,
    line: Extract<ReturnType<typeof parseSmmuLine>, { kind: 'event' }>,
  ): void {
    const id = smmuEventId(line.name);
    fault.reason = id ?? fault.reason;
    fault.reasonName = line.name;
    fault.reasonText = line.name;
    fault.meaning = (id !== null ? SMMU_EVENT_IDS[id]?.meaning : undefined) ?? fault.meaning;
    fault.device = line.client;
    fault.streamId = line.sid;
    fault.pasid = line.ssid === 0 ? fault.pasid : line.ssid;
    fault.addr = line.iova ?? line.fetchAddr ?? fault.addr;
    if (line.ipa) fault.extra.ipa = line.ipa;
    if (line.fetchAddr) fault.extra.fetchAddr = line.fetchAddr;
  }

  private finishSmmu(p: PendingSmmu): DmaFault {
    const f = p.fault;
    if (p.dwords.length === 4) {
      const d = decodeSmmuRecord(p.dwords);
      f.extra.rawRecord = p.dwords.map((x) => `0x${x.toString(16).padStart(16, '0')}`).join(' ');
      if (!p.haveEvent) {
        f.reason = d.id;
        f.reasonName = d.name;
        f.reasonText = d.name;
        f.meaning = d.meaning;
        f.streamId = d.sid;
        f.pasid = d.ssid;
        f.addr = d.addr ?? f.addr;
        f.access = d.access;
        Object.assign(f.extra, d.attrs);
      } else if (f.access === 'unknown') {
        f.access = d.access;
        if (f.pasid === null) f.pasid = d.ssid;
      }
    } else if (!p.haveEvent) {
      f.extra.truncated = `raw record with ${p.dwords.length} of 4 dwords`;
      this.counters.unparsed++;
    }
    if (!f.reasonText) f.reasonText = f.reasonName;
    return f;
  }
}
