// Per-second activity counters per IOMMU unit and per device, turned into
// one `rates` event per interval. The tracepoints for map/unmap carry no
// unit or device (iommu_map() knows only the domain), so they are host-wide;
// on a host with one IOMMU unit they are also shown on that unit.
import type { InterruptRate } from '../../common/activity/interrupts';
import type { TraceActivity } from '../../common/activity/trace-events';
import type { HelperCounts } from './frames';
import type { DeviceRates, RatesEvent, UnitRates } from '../../common/activity/stream';

export type { DeviceRates, RatesEvent, UnitRates } from '../../common/activity/stream';

interface Counts {
  invalidations: number;
  byKind: Map<string, number>;
  flushes: number;
  prq: number;
  faults: number;
}
const newCounts = (): Counts => ({
  invalidations: 0,
  byKind: new Map(),
  flushes: 0,
  prq: 0,
  faults: 0,
});

export class RateCounter {
  private map = { count: 0, bytes: 0, total: 0 };
  private unmap = { count: 0, bytes: 0, total: 0 };
  private units = new Map<string, Counts>();
  private devices = new Map<
    string,
    Counts & { attaches: number; faultsTotal: number; lastFaultTime: number | null }
  >();
  private irq: InterruptRate[] = [];
  private lastAt = Date.now();
  lostTrace = 0;
  lostKmsg = 0;

  constructor(
    private readonly resolve: (device: string) => { group: number | null; driver: string | null },
  ) {}

  private unit(name: string): Counts {
    let u = this.units.get(name);
    if (!u) this.units.set(name, (u = newCounts()));
    return u;
  }

  private device(name: string) {
    let d = this.devices.get(name);
    if (!d)
      this.devices.set(
        name,
        (d = { ...newCounts(), attaches: 0, faultsTotal: 0, lastFaultTime: null }),
      );
    return d;
  }

  /** Seeds units known from the topology so they show with zeros. */
  knownUnits(names: string[]): void {
    for (const n of names) this.unit(n);
  }

  trace(a: TraceActivity): void {
    switch (a.type) {
      case 'map':
        this.map.count++;
        this.map.total++;
        this.map.bytes += a.size;
        break;
      case 'unmap':
        this.unmap.count++;
        this.unmap.total++;
        this.unmap.bytes += a.unmapped;
        break;
      case 'invalidation': {
        const u = this.unit(a.unit);
        u.invalidations++;
        u.byKind.set(a.kind, (u.byKind.get(a.kind) ?? 0) + 1);
        break;
      }
      case 'iotlb-flush':
        this.unit(a.unit).flushes++;
        this.device(a.device).flushes++;
        break;
      case 'page-request':
        this.unit(a.unit).prq++;
        this.device(a.device).prq++;
        break;
      case 'attach':
        this.device(a.device).attaches++;
        break;
      default:
        break;
    }
  }

  /** Counts the helper already summed (the same meaning as trace() for each event). */
  counts(c: HelperCounts): void {
    this.map.count += c.map.count;
    this.map.total += c.map.count;
    this.map.bytes += c.map.bytes;
    this.unmap.count += c.unmap.count;
    this.unmap.total += c.unmap.count;
    this.unmap.bytes += c.unmap.bytes;
    for (const [unit, kinds] of Object.entries(c.qi)) {
      const u = this.unit(unit);
      for (const [kind, n] of Object.entries(kinds)) {
        u.invalidations += n;
        u.byKind.set(kind, (u.byKind.get(kind) ?? 0) + n);
      }
    }
    const split = (key: string) => {
      const sp = key.indexOf(' ');
      return [key.slice(0, sp), key.slice(sp + 1)] as const;
    };
    for (const [key, n] of Object.entries(c.flush)) {
      const [unit, dev] = split(key);
      this.unit(unit).flushes += n;
      this.device(dev).flushes += n;
    }
    for (const [key, n] of Object.entries(c.prq)) {
      const [unit, dev] = split(key);
      this.unit(unit).prq += n;
      this.device(dev).prq += n;
    }
  }

  fault(unit: string | null, device: string | null, time: number): void {
    if (unit) this.unit(unit).faults++;
    if (device) {
      const d = this.device(device);
      d.faults++;
      d.faultsTotal++;
      d.lastFaultTime = time;
    }
  }

  interrupts(rates: InterruptRate[]): void {
    this.irq = rates;
    for (const r of rates) this.unit(r.unit);
  }

  /** Closes the interval: per-second values, counters reset (totals kept). */
  take(now = Date.now()): RatesEvent {
    const ms = Math.max(1, now - this.lastAt);
    this.lastAt = now;
    const per = (n: number) => Math.round((n * 1000 * 100) / ms) / 100;
    const onlyUnit = this.units.size === 1;
    const units: UnitRates[] = [...this.units.entries()].map(([unit, c]) => {
      const interrupts: Record<string, number> = {};
      for (const r of this.irq.filter((x) => x.unit === unit))
        interrupts[r.kind] = (interrupts[r.kind] ?? 0) + r.perSecond;
      const out: UnitRates = {
        unit,
        invalidations: per(c.invalidations),
        invalidationsByKind: Object.fromEntries([...c.byKind].map(([k, v]) => [k, per(v)])),
        iotlbFlushes: per(c.flushes),
        pageRequests: per(c.prq),
        faults: per(c.faults),
        interrupts,
      };
      if (onlyUnit) {
        out.maps = per(this.map.count);
        out.unmaps = per(this.unmap.count);
      }
      return out;
    });
    const devices: DeviceRates[] = [...this.devices.entries()].map(([device, c]) => ({
      device,
      ...this.resolve(device),
      faults: per(c.faults),
      pageRequests: per(c.prq),
      iotlbFlushes: per(c.flushes),
      attaches: per(c.attaches),
      faultsTotal: c.faultsTotal,
      lastFaultTime: c.lastFaultTime,
    }));
    const ev: RatesEvent = {
      type: 'rates',
      time: now,
      intervalMs: ms,
      map: {
        perSecond: per(this.map.count),
        bytesPerSecond: per(this.map.bytes),
        total: this.map.total,
      },
      unmap: {
        perSecond: per(this.unmap.count),
        bytesPerSecond: per(this.unmap.bytes),
        total: this.unmap.total,
      },
      units,
      devices,
      lost: { trace: this.lostTrace, kmsg: this.lostKmsg },
    };
    this.map.count = this.map.bytes = this.unmap.count = this.unmap.bytes = 0;
    for (const c of [...this.units.values(), ...this.devices.values()]) {
      c.invalidations = c.flushes = c.prq = c.faults = 0;
      c.byKind.clear();
    }
    for (const d of this.devices.values()) d.attaches = 0;
    return ev;
  }
}
