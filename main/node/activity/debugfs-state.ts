// Intel debugfs frames from iommuscope-capture (kDebugfs: "path[\tflag]\n"
// then the text) decoded into the activity stream: per unit its registers
// and queues, per device its live PASIDs and (for watched devices) a page
// table summary, per file its read state. Only changes are emitted, so a
// 5-second poll of an idle host adds nothing to the history. Memory is
// bounded by the units and devices of the host (64 watched at most, 16
// mappings kept per page table).
import type {
  DebugfsFile,
  DebugfsUnit,
  DevicePasid,
  DevicePasids,
} from '../../common/debugfs/events';
import {
  decodeInvalidationQueue,
  type InvalidationQueue,
} from '../../common/debugfs/invalidation-queue';
import { decodePasidTable, type DeviceTranslation } from '../../common/debugfs/pasid-table';
import { decodePerfLatency, type UnitLatency } from '../../common/debugfs/perf-latency';
import type { Decoded } from '../../common/debugfs/problems';
import { decodeRegset, type RegsetUnit } from '../../common/debugfs/regset';
import {
  decodeTranslationStruct,
  type TranslationSection,
} from '../../common/debugfs/translation-struct';
import type { ResolvedDevice } from '../../common/activity/stream';

type Emitted = DebugfsUnit | DevicePasids | DebugfsFile;

const FIRST_MAPPINGS = 16;
export const MAX_WATCHED = 64;

interface Frame {
  file: string;
  flag: 'ok' | 'truncated' | 'error';
  error: string | null;
  text: string;
}

export function parseDebugfsFrame(payload: Buffer): Frame {
  const s = payload.toString('utf8');
  const nl = s.indexOf('\n');
  const head = nl < 0 ? s : s.slice(0, nl);
  const text = nl < 0 ? '' : s.slice(nl + 1);
  const [file, flag] = head.split('\t', 2) as [string, string | undefined];
  if (flag === undefined) return { file, flag: 'ok', error: null, text };
  if (flag === 'truncated') return { file, flag: 'truncated', error: null, text };
  const m = /^error (\S+)$/.exec(flag);
  return { file, flag: 'error', error: m ? m[1]! : flag, text };
}

/** A JSON key for "did it change" without the read time. */
const same = (a: object | undefined, b: object): boolean => {
  if (!a) return false;
  const strip = (o: object) => JSON.stringify({ ...o, time: 0 });
  return strip(a) === strip(b);
};

export class DebugfsState {
  readonly units = new Map<string, DebugfsUnit>();
  readonly devices = new Map<string, DevicePasids>();
  private readonly files = new Map<string, DebugfsFile>();
  private regset: RegsetUnit[] = [];
  private queues = new Map<string, InvalidationQueue>();
  private latency: Map<string, UnitLatency> | null = null;
  private table: DeviceTranslation[] = [];
  /** device -> pasid -> section (from its domain_translation_struct files). */
  private readonly sections = new Map<string, Map<number, DevicePasid['translation']>>();
  readonly watched = new Set<string>();
  /** Between a round's iommu_regset and its dmar_translation_struct: device events wait for the end. */
  private inRound = false;

  constructor(private readonly resolve: (device: string) => ResolvedDevice) {}

  /** Decodes one frame; returns what changed. `time` is wall-clock ms. */
  onFrame(payload: Buffer, time: number): Emitted[] {
    const f = parseDebugfsFrame(payload);
    const out: Emitted[] = [];
    if (f.flag === 'error') {
      this.fileState(out, f, time, { problems: [], problemCount: 0 });
      if (f.file === 'dmar_translation_struct') this.endOfRound(out, time);
      return out;
    }
    const base = f.file.split('/').at(-1);
    let decoded: Decoded = { problems: [], problemCount: 0 };
    if (f.file === 'iommu_regset') {
      this.inRound = true;
      const r = decodeRegset(f.text);
      this.regset = r.units;
      decoded = r;
    } else if (f.file === 'invalidation_queue') {
      const r = decodeInvalidationQueue(f.text);
      this.queues = new Map(r.units.map((u) => [u.unit, u]));
      decoded = r;
    } else if (f.file === 'dmar_perf_latency') {
      const r = decodePerfLatency(f.text);
      this.latency = new Map(r.units.map((u) => [u.unit, u]));
      decoded = r;
    } else if (f.file === 'dmar_translation_struct') {
      const r = decodePasidTable(f.text);
      this.table = r.devices;
      decoded = r;
    } else if (base === 'domain_translation_struct') {
      const r = decodeTranslationStruct(f.text);
      this.onTranslation(f.file, r.sections, f.flag === 'truncated');
      decoded = r;
    }
    this.fileState(out, f, time, decoded);
    if (f.file === 'dmar_translation_struct') this.endOfRound(out, time);
    else if (base === 'domain_translation_struct' && !this.inRound)
      this.emitDevices(out, time, f.file.split('/')[0]); // a watch read between rounds
    return out;
  }

  private fileState(out: Emitted[], f: Frame, time: number, d: Decoded): void {
    const e: DebugfsFile = {
      type: 'debugfs-file',
      file: f.file,
      ok: f.flag !== 'error',
      error: f.error,
      detail: f.flag === 'error' ? f.text.trim() : '',
      truncated: f.flag === 'truncated',
      problemCount: d.problemCount,
      problems: d.problems,
      time,
    };
    const prev = this.files.get(f.file);
    this.files.set(f.file, e);
    const clean = e.ok && !e.truncated && e.problemCount === 0;
    // A clean first read says nothing new; anything else, or a change, is news.
    if ((!prev && !clean) || (prev && !same(prev, e))) out.push(e);
  }

  private onTranslation(file: string, sections: TranslationSection[], truncated: boolean): void {
    const device = file.split('/')[0]!;
    const byPasid = this.sections.get(device) ?? new Map<number, DevicePasid['translation']>();
    // <bdf>/domain_translation_struct is the device's PASID 0 (RID) domain; <bdf>/<pasid>/ another.
    const sub = file.split('/').length === 3 ? Number(file.split('/')[1]) : null;
    if (sub !== null && sections.length === 0) byPasid.delete(sub);
    for (const s of sections) {
      byPasid.set(s.pasid, {
        root: s.root,
        levels: s.levels,
        mappings: s.mappings.length,
        first: s.mappings.slice(0, FIRST_MAPPINGS),
        truncated,
      });
    }
    this.sections.set(device, byPasid);
  }

  private endOfRound(out: Emitted[], time: number): void {
    this.inRound = false;
    for (const r of this.regset) {
      const q = this.queues.get(r.unit);
      const u: DebugfsUnit = {
        type: 'debugfs-unit',
        unit: r.unit,
        time,
        base: r.base,
        registers: Object.fromEntries(r.registers.map((x) => [x.name, x.value])),
        fault: r.fault,
        status: r.status,
        faultEvent: r.faultEvent,
        pageRequestEvent: r.pageRequestEvent,
        pageRequestQueue: r.pageRequestQueue,
        invalidationQueue: r.invalidationQueue && {
          ...r.invalidationQueue,
          descriptorBits: q?.descriptorBits ?? null,
          byType: q?.byType ?? {},
          recent: q?.recent ?? [],
        },
        latency: this.latency ? (this.latency.get(r.unit)?.rows ?? []) : null,
      };
      if (!same(this.units.get(r.unit), u)) out.push(u);
      this.units.set(r.unit, u);
    }
    this.emitDevices(out, time);
  }

  /** Device events for every device of the PASID table (or only `only`) that changed. */
  private emitDevices(out: Emitted[], time: number, only?: string): void {
    for (const d of this.table) {
      if (only !== undefined && d.device !== only) continue;
      const tables = this.sections.get(d.device);
      const e: DevicePasids = {
        type: 'device-pasids',
        device: d.device,
        unit: d.unit,
        ...this.resolve(d.device),
        time,
        contextPresent: d.contextPresent,
        pasids: d.pasids
          .filter((p) => p.present)
          .map((p) => ({ ...p, translation: tables?.get(p.pasid) ?? null })),
        watched: this.watched.has(d.device),
      };
      if (!same(this.devices.get(d.device), e)) out.push(e);
      this.devices.set(d.device, e);
    }
  }
}
