// The core side of the activity view: runs iommuscope-capture (or, without
// it, reads what the user can: /proc/interrupts), decodes its frames with
// the main/common/activity decoders, resolves devices to the Host view's
// groups and drivers, counts rates per unit and device, and keeps a bounded
// history for late subscribers (the dashboard after a reload).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  iommuInterrupts,
  interruptRates,
  type IommuInterrupt,
} from '../../common/activity/interrupts';
import { KmsgDecoder } from '../../common/activity/kmsg-decoder';
import type {
  ActivityEvent,
  ResolvedDevice,
  SourceState,
  TimedFault,
} from '../../common/activity/stream';
import { interpretTrace } from '../../common/activity/trace-events';
import {
  decodeTraceRecord,
  parseTraceFormat,
  type TraceFormat,
} from '../../common/activity/trace-format';
import type { KmsgActivity } from '../../common/activity/types';
import { DebugfsState, MAX_WATCHED } from './debugfs-state';
import { FRAME, FrameReader, traceSamples, type HelperCounts } from './frames';
import { findCaptureHelper } from './helper-path';
import { RateCounter, type RatesEvent } from './rates';

export interface ActivityOptions {
  /** Path of iommuscope-capture; default: found by findCaptureHelper(). null: never spawn it. */
  helper?: string | null;
  /** Frames come from onData() (a recorded stream): no helper, no direct reads. */
  replay?: boolean;
  /** Extra helper arguments (e.g. ['--kmsg-history']). */
  helperArgs?: string[];
  /** Rates interval, ms (default 1000). */
  intervalMs?: number;
  /** Device -> group/driver, from the Host view's topology. */
  resolve?: (device: string) => ResolvedDevice;
  /** IOMMU units known from the topology (shown with zero rates). */
  units?: string[];
  /** Called on attach/group events so the caller can rescan the topology. */
  onTopologyChange?: () => void;
  /** Devices whose debugfs page tables the helper reads from the start (ssss:bb:dd.f). */
  watchDevices?: string[];
  /** Ask the helper to read the debugfs page tables of each device that faults (default true). */
  watchFaultingDevices?: boolean;
  /** History bounds. */
  maxEvents?: number;
  maxRates?: number;
}

const KMSG_FLUSH_MS = 150;

/** Wall-clock ms for a CLOCK_MONOTONIC time (Node's hrtime is CLOCK_MONOTONIC on Linux). */
function wallClockOf(monotonicMs: number): number {
  const nowMono = Number(process.hrtime.bigint() / 1_000_000n);
  return Date.now() - (nowMono - monotonicMs);
}

export class ActivityCore {
  private readonly listeners = new Set<(e: ActivityEvent | RatesEvent) => void>();
  private readonly kmsg = new KmsgDecoder();
  private readonly formats = new Map<number, TraceFormat & { key: string }>();
  private readonly rates: RateCounter;
  private readonly reader = new FrameReader();
  private child: ChildProcess | null = null;
  private rateTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private directIrqTimer: NodeJS.Timeout | null = null;
  private prevIrq: { at: number; lines: IommuInterrupt[] } | null = null;
  private stderr = '';
  private readonly resolve: (device: string) => ResolvedDevice;
  /** Intel debugfs: per unit registers/queues, per device live PASIDs (debugfs-state.ts). */
  readonly debugfs: DebugfsState;
  readonly sources = new Map<string, SourceState>();
  readonly events: ActivityEvent[] = [];
  readonly rateHistory: RatesEvent[] = [];
  hello: Record<string, unknown> | null = null;
  traceSamples = 0;
  traceUndecoded = 0;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ActivityOptions = {}) {
    this.resolve = opts.resolve ?? (() => ({ group: null, driver: null }));
    this.rates = new RateCounter(this.resolve);
    this.debugfs = new DebugfsState(this.resolve);
    this.rates.knownUnits(opts.units ?? []);
  }

  on(listener: (e: ActivityEvent | RatesEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get counters() {
    return {
      ...this.kmsg.counters,
      traceSamples: this.traceSamples,
      traceUndecoded: this.traceUndecoded,
    };
  }

  private emit(e: ActivityEvent | RatesEvent): void {
    if (e.type === 'rates') {
      this.rateHistory.push(e);
      if (this.rateHistory.length > (this.opts.maxRates ?? 300)) this.rateHistory.shift();
    } else {
      this.events.push(e);
      if (this.events.length > (this.opts.maxEvents ?? 5000)) this.events.shift();
    }
    for (const l of this.listeners) l(e);
  }

  private source(s: Omit<SourceState, 'type'>): void {
    const st: SourceState = { type: 'source', ...s };
    this.sources.set(s.source, st);
    this.emit(st);
  }

  /** Starts capturing; resolves once the helper reported its sources (or the fallback is running). */
  async start(): Promise<void> {
    const intervalMs = this.opts.intervalMs ?? 1000;
    this.rateTimer = setInterval(() => this.emit(this.rates.take()), intervalMs);
    if (this.opts.replay) return;
    const helper = this.opts.helper === undefined ? findCaptureHelper() : this.opts.helper;
    if (!helper) {
      this.source({
        source: 'helper',
        ok: false,
        detail: 'iommuscope-capture is not built or installed: kernel log and tracepoints are off',
        needCap: null,
        fix: 'node scripts/build-native.mjs (or set IOMMUSCOPE_CAPTURE)',
      });
      this.startDirectInterrupts(intervalMs);
      return;
    }
    const watch = (this.opts.watchDevices ?? []).slice(0, MAX_WATCHED);
    for (const d of watch) this.debugfs.watched.add(d);
    const args = [
      '--interval-ms',
      String(intervalMs),
      ...watch.flatMap((d) => ['--debugfs-device', d]),
      ...(this.opts.helperArgs ?? []),
    ];
    const child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const ready = new Promise<void>((resolve) => {
      const done = () => resolve();
      child.once('exit', done);
      this.readyHook = done;
    });
    this.exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdout!.on('data', (c: Buffer) => this.onData(c));
    child.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-16384);
    });
    child.on('error', (err) => {
      this.source({
        source: 'helper',
        ok: false,
        detail: `cannot run ${helper}: ${err.message}`,
        needCap: null,
        fix: null,
      });
      this.readyHook?.();
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (code !== 0 && signal !== 'SIGTERM') {
        this.source({
          source: 'helper',
          ok: false,
          detail: `iommuscope-capture exited (${signal ?? `status ${code}`}): ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`,
          needCap: null,
          fix: null,
        });
      }
    });
    await ready;
  }

  private readyHook: (() => void) | null = null;

  private startDirectInterrupts(intervalMs: number): void {
    const sample = () => {
      try {
        this.onInterrupts(
          Number(process.hrtime.bigint() / 1_000_000n),
          readFileSync('/proc/interrupts', 'utf8'),
        );
      } catch (err) {
        this.source({
          source: 'interrupts',
          ok: false,
          detail: String(err),
          needCap: null,
          fix: null,
        });
      }
    };
    this.source({
      source: 'interrupts',
      ok: true,
      detail: '/proc/interrupts (read directly)',
      needCap: null,
      fix: null,
    });
    sample();
    this.directIrqTimer = setInterval(sample, intervalMs);
  }

  /** Feeds raw helper output (also used by tests with recorded streams). */
  onData(chunk: Buffer): void {
    for (const f of this.reader.push(chunk)) this.onFrame(f.type, f.payload);
    if (this.reader.error) {
      this.source({
        source: 'helper',
        ok: false,
        detail: this.reader.error,
        needCap: null,
        fix: null,
      });
      this.child?.kill('SIGTERM');
    }
  }

  private onFrame(type: number, p: Buffer): void {
    switch (type) {
      case FRAME.hello:
        this.hello = JSON.parse(p.toString('utf8')) as Record<string, unknown>;
        break;
      case FRAME.source: {
        const s = JSON.parse(p.toString('utf8')) as Omit<SourceState, 'type'>;
        this.source(s);
        break;
      }
      case FRAME.ready:
        this.readyHook?.();
        break;
      case FRAME.kmsg:
        this.onKmsg(this.kmsg.push(p.toString('utf8')));
        break;
      case FRAME.kmsgLost:
        // The sequence numbers give the exact gap; this only counts reads that said EPIPE.
        this.rates.lostKmsg++;
        break;
      case FRAME.format: {
        const id = p.readUInt32LE(0);
        const text = p.subarray(4).toString('utf8');
        const nl = text.indexOf('\n');
        const key = text.slice(0, nl);
        try {
          this.formats.set(id, {
            ...parseTraceFormat(key.split(':')[0]!, text.slice(nl + 1)),
            key,
          });
        } catch (err) {
          this.emit({
            type: 'unparsed',
            source: 'trace',
            reason: String(err),
            raw: text,
            seq: null,
          });
        }
        break;
      }
      case FRAME.trace:
        this.onTrace(p);
        break;
      case FRAME.counts: {
        const c = JSON.parse(p.toString('utf8')) as HelperCounts;
        this.rates.counts(c);
        this.traceUndecoded += c.bad;
        break;
      }
      case FRAME.traceLost:
        this.rates.lostTrace += Number(p.readBigUInt64LE(8));
        break;
      case FRAME.debugfs:
        // Off the hot path: a few frames every debugfs interval (5 s by default).
        for (const e of this.debugfs.onFrame(p, Date.now())) this.emit(e);
        break;
      case FRAME.interrupts:
        this.onInterrupts(
          Number(p.readBigUInt64LE(0) / 1_000_000n),
          p.subarray(8).toString('utf8'),
        );
        break;
      default:
        break;
    }
  }

  private onKmsg(list: KmsgActivity[]): void {
    for (const a of list) {
      if (a.type === 'dma-fault') {
        const time = wallClockOf(a.bootUs / 1000);
        const f: TimedFault = {
          ...a,
          ...(a.device ? this.resolve(a.device) : { group: null, driver: null }),
          time,
        };
        this.rates.fault(f.unit ?? this.unitOfDevice(f.device), f.device, time);
        this.emit(f);
        if (f.device && this.opts.watchFaultingDevices !== false) this.watchDevice(f.device);
      } else if (a.type === 'suppressed' || a.type === 'iommu-message') {
        this.emit({ ...a, time: wallClockOf(a.bootUs / 1000) });
      } else {
        this.emit(a);
      }
    }
    if (this.kmsg.pending && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.onKmsg(this.kmsg.flush());
      }, KMSG_FLUSH_MS);
    }
  }

  /**
   * Has the helper read `device`'s debugfs page tables every debugfs interval
   * (and now). False when it is not a PCI address, MAX_WATCHED are watched, or
   * no helper runs; true when it is (or already was) watched.
   */
  watchDevice(device: string): boolean {
    if (this.debugfs.watched.has(device)) return true;
    if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(device)) return false;
    if (this.debugfs.watched.size >= MAX_WATCHED || !this.child?.stdin?.writable) return false;
    this.debugfs.watched.add(device);
    this.child.stdin.write(`watch-device ${device}\n`);
    return true;
  }

  /** Intel fault lines name no unit: take it from the topology's device. */
  unitOfDevice: (device: string | null) => string | null = () => null;

  private onTrace(p: Buffer): void {
    const { samples, truncated } = traceSamples(p);
    if (truncated) this.traceUndecoded++;
    for (const s of samples) {
      this.traceSamples++;
      if (s.raw.length < 2) {
        this.traceUndecoded++;
        continue;
      }
      const id = s.raw[0]! | (s.raw[1]! << 8);
      const fmt = this.formats.get(id);
      if (!fmt) {
        this.traceUndecoded++;
        continue;
      }
      let a;
      try {
        a = interpretTrace(fmt.key, decodeTraceRecord(fmt, s.raw));
      } catch {
        this.traceUndecoded++;
        continue;
      }
      if (!a) continue;
      this.rates.trace(a);
      const time = wallClockOf(Number(s.timeNs / 1_000_000n));
      if (a.type === 'attach' || a.type === 'group-add' || a.type === 'group-remove') {
        const change = a.type;
        const group = a.type === 'attach' ? this.resolve(a.device).group : a.group;
        this.emit({ type: 'topology', change, device: a.device, group, time });
        this.opts.onTopologyChange?.();
      } else if (a.type === 'io-page-fault') {
        this.emit({
          type: 'trace-fault',
          device: a.device,
          driver: a.driver,
          iova: a.iova,
          flags: a.flags,
          time,
        });
      }
    }
  }

  private onInterrupts(monoMs: number, text: string): void {
    const lines = iommuInterrupts(text);
    const prev = this.prevIrq;
    this.rates.interrupts(
      interruptRates(prev?.lines ?? null, lines, prev ? (monoMs - prev.at) / 1000 : 0),
    );
    this.prevIrq = { at: monoMs, lines };
  }

  /** Stops the helper (closing its stdin) and the timers; resolves when it is gone. */
  async stop(): Promise<void> {
    for (const t of [this.rateTimer, this.directIrqTimer]) if (t) clearInterval(t);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.rateTimer = this.directIrqTimer = this.flushTimer = null;
    const child = this.child;
    if (child) {
      child.stdin?.end();
      const killer = setTimeout(() => child.kill('SIGTERM'), 1000);
      await this.exited;
      clearTimeout(killer);
    }
    this.child = null;
    this.onKmsg(this.kmsg.flush());
  }

  get helperStderr(): string {
    return this.stderr;
  }
}
