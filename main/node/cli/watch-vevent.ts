// `iommuscope watch --source vevent`: a vIOMMU's vEVENTQ (kernel 6.15+) on
// the selftest mock device (events made by TRIGGER_VEVENT, --inject) or on a
// VFIO device behind an ARM SMMUv3 / Tegra241 CMDQV (--device). Read-only:
// each vEVENT read is printed (text or NDJSON, with its decode), each loss as
// its own line; one summary line at the end, however the run ends.
import { GrammarError } from '../../common/grammar-error';
import { parseVeventInject, type VeventInjectSpec } from '../../common/vevent-inject';
import { veventTypeName } from '../../common/vevent-decode';
import type { NativeAddon, VeventBatch, VeventTotals } from '../native/addon-types';
import { loadAddon } from '../native/load';
import { explain } from '../errors';
import { VeventSource, VEVENTQ_DEFAULT_DEPTH, VEVENTQ_MAX_DEPTH } from '../sources/vevent-source';
import { VeventInjector } from '../vevent/vevent-injector';
import {
  veventNdjson,
  veventStatus,
  veventText,
  type VeventSummary,
} from '../vevent/vevent-output';
import { VeventRowDecoder } from '../vevent/vevent-rows';
import { veventFrames } from '../vevent/vevent-frames';
import { Recorder } from '../recording/recorder';
import { packageVersion } from '../dashboard/version';
import { numberFlag, UsageError } from './args';
import { exitPaths, ExitStatus, statusFor } from './exit-paths';
import { runOutput } from './run-output';
import { OutWriter, type OutStream } from './out-writer';
import { TextFormatter } from './watch-text';

export interface VeventWatchOptions {
  source: 'vevent';
  device?: string;
  depth: number;
  virtId: bigint;
  inject?: VeventInjectSpec;
  count?: number;
  durationS?: number;
  json: boolean;
  quiet: boolean;
  flushMs: number;
  verbose: boolean;
  record?: string;
}

const U64_MAX = (1n << 64n) - 1n;
/** The selftest's event carries a u32 virt_id, and reports nothing for virt id 0. */
const MOCK_VIRT_ID_MAX = 0xffffffffn;

/** A 64-bit id, decimal or 0x hex. */
export function parseVirtId(text: string, mock: boolean): bigint {
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(text) || BigInt(text) > U64_MAX)
    throw new UsageError(`--virt-id '${text}' must be a 64-bit integer (decimal or 0x hex)`);
  const v = BigInt(text);
  if (mock && (v === 0n || v > MOCK_VIRT_ID_MAX))
    throw new UsageError(
      `--virt-id ${text}: the selftest mock takes 1..0xffffffff (its vEVENT carries a u32 virt_id, and a vDEVICE with virt id 0 reports none)`,
    );
  return v;
}

const NOT_FOR_VEVENT: Record<string, string> = {
  pasid: 'a vEVENTQ reports for the whole vIOMMU',
  policy: 'a vEVENTQ is read-only: there is nothing to answer',
  'drain-code': 'a vEVENTQ is read-only: there is nothing to drain',
  filter: 'the display filter selects page request groups',
};

/** Flags (already parsed by watch's spec) → options for --source vevent; problems are UsageErrors. */
export function veventWatchOptions(
  flags: Readonly<Record<string, string | boolean | undefined>>,
  positionals: string[],
): VeventWatchOptions {
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  for (const [name, why] of Object.entries(NOT_FOR_VEVENT))
    if (flags[name] !== undefined)
      throw new UsageError(`--${name} is not for --source vevent: ${why}`);
  const device = flags.device as string | undefined;
  const inject = flags.inject as string | undefined;
  if (device && inject)
    throw new UsageError(
      "--inject is for the selftest mock (TRIGGER_VEVENT); a real device's vEVENTs come from its hardware: leave out --device or --inject",
    );
  const text = (n: string): string | undefined => flags[n] as string | undefined;
  const opts: VeventWatchOptions = {
    source: 'vevent',
    depth: text('depth')
      ? numberFlag('depth', text('depth')!, { integer: true, min: 1, max: VEVENTQ_MAX_DEPTH })
      : VEVENTQ_DEFAULT_DEPTH,
    virtId: parseVirtId(text('virt-id') ?? '0x1', !device),
    json: flags.json === true,
    quiet: flags.quiet === true,
    flushMs: text('flush-ms')
      ? numberFlag('flush-ms', text('flush-ms')!, { integer: true, min: 1, max: 10_000 })
      : 10,
    verbose: flags.verbose === true,
  };
  if (device) opts.device = device;
  if (text('record')) opts.record = text('record')!;
  try {
    if (inject) opts.inject = parseVeventInject(inject);
  } catch (err) {
    if (err instanceof GrammarError) throw new UsageError(err.message);
    throw err;
  }
  if (text('count')) opts.count = numberFlag('count', text('count')!, { integer: true, min: 1 });
  if (text('duration')) opts.durationS = numberFlag('duration', text('duration')!, { min: 0.001 });
  return opts;
}

export interface VeventWatchEnv {
  out?: OutStream & { isTTY?: boolean };
  addon?: NativeAddon;
}

export async function runVeventWatch(
  opts: VeventWatchOptions,
  env: VeventWatchEnv = {},
): Promise<number> {
  const started = performance.now();
  const log = opts.verbose ? (s: string) => process.stderr.write(`iommuscope: ${s}\n`) : undefined;
  let stopReason = '';
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const stop = (reason: string): void => {
    if (stopReason) return;
    stopReason = reason;
    wake();
  };
  let source: VeventSource | undefined;
  const base = (): Omit<
    VeventSummary,
    'stopReason' | 'durationMs' | 'teardownErrors' | 'clean'
  > => {
    const t: VeventTotals = source ? source.queue.totals() : zeroTotals;
    const elapsedMs = performance.now() - started;
    return {
      type: 'summary',
      source: 'vevent',
      device: opts.device ?? 'mock',
      veventqType: source ? veventTypeName(source.eventType) : '',
      depth: opts.depth,
      virtId: opts.virtId.toString(),
      events: t.events,
      lost: t.lost,
      lostMarkers: t.lostMarkers,
      overflow: t.overflow,
      malformed: t.malformed,
      reads: t.reads,
      errors: t.errors,
      eventsPerSec: Math.round((t.events * 1000) / Math.max(elapsedMs, 1)),
    };
  };
  const run = exitPaths().begin({
    drainCode: 1,
    stopOnStdoutClosed: true,
    onStop: stop,
    crashSummary: (c) => ({
      ...base(),
      stopReason: c.stopReason,
      durationMs: Math.round(performance.now() - started),
      teardownErrors: [],
      error: c.error,
      clean: false,
    }),
  });
  const { out, summarize } = runOutput(run, env.out);
  const fail = (msg: string): number => {
    process.stderr.write(`iommuscope watch: ${msg}\n`);
    summarize({
      ...base(),
      stopReason: 'error',
      durationMs: Math.round(performance.now() - started),
      teardownErrors: source?.close() ?? [],
      error: msg,
      clean: false,
    });
    return ExitStatus.Unclean;
  };
  try {
    let addon = env.addon;
    if (!addon) {
      try {
        addon = loadAddon();
      } catch (err) {
        throw explain(err, 'addon');
      }
    }
    source = VeventSource.open(addon, {
      ...(opts.device ? { device: opts.device } : {}),
      depth: opts.depth,
      virtId: opts.virtId,
      flushIntervalMs: opts.flushMs,
      ...(log ? { log } : {}),
    });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const s = source;
  const queueId = s.ids.veventq;

  let rec: Recorder | undefined;
  if (opts.record) {
    try {
      rec = Recorder.start({
        path: opts.record,
        toolVersion: packageVersion(),
        onError: (err) => process.stderr.write(`iommuscope watch: ${err.message}\n`),
      });
      rec.session({
        queue: s.queue.id,
        source: 'vevent',
        ...(opts.device ? { device: opts.device } : {}),
        extra: {
          objects: s.objects(),
          depth: opts.depth,
          virtId: opts.virtId.toString(),
          ...(opts.inject ? { inject: opts.inject } : {}),
        },
      });
    } catch (err) {
      return fail(`--record ${opts.record}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const injector = opts.inject ? new VeventInjector(opts.inject, () => s.trigger()) : undefined;
  const tty = !opts.json && out.isTTY === true;
  const writer = new OutWriter(out, (n) =>
    opts.json ? `{"type":"lost","lines":${n}}\n` : `(${n} lines lost: output too slow)\n`,
  );
  const text = opts.json || opts.quiet ? undefined : new TextFormatter();
  const rows = new VeventRowDecoder(s.eventType);
  // What JS has been given so far (the batches' totals): stop decisions wait for the
  // lines to be printed, not only for the reader thread to have read them.
  let delivered: VeventTotals = zeroTotals;
  let restStarted = false;
  /** The injection after the prefill burst starts once the reader took the burst out. */
  const startRest = (): void => {
    if (!injector || restStarted || !opts.inject) return;
    if (opts.inject.prefill > 0 && delivered.events + delivered.lost < opts.inject.prefill) return;
    restStarted = true;
    injector.start(() => checkDone());
  };
  const checkDone = (): void => {
    const t = delivered;
    if (opts.count !== undefined && t.events >= opts.count) return stop('count');
    if (opts.durationS !== undefined && performance.now() - started >= opts.durationS * 1000)
      return stop('duration');
    if (injector && opts.count === undefined && opts.durationS === undefined) {
      const p = injector.progress();
      // Every triggered vEVENT was read or counted lost.
      if (p.done && (t.events + t.lost >= p.injected || p.failed > 0)) stop('injection done');
    }
  };
  const onBatch = (b: VeventBatch): void => {
    delivered = b.totals;
    const items = rows.rows(b);
    if (rec) rec.vevents(veventFrames(s, b));
    if (items.length && opts.json) writer.write(veventNdjson(queueId, items), items.length);
    else if (items.length && text)
      writer.write(
        veventText(queueId, items, (ns) => text.time(ns)),
        items.length,
      );
    for (const e of b.errors)
      process.stderr.write(`iommuscope watch: vEVENTQ ${e.op}: ${e.message}\n`);
    startRest();
    checkDone();
  };

  const status = (): string => veventStatus(s.queue.totals(), performance.now() - started);
  const statsTimer = setInterval(() => {
    if (opts.json)
      writer.write(
        `${JSON.stringify({ type: 'stats', elapsedMs: Math.round(performance.now() - started), ...s.queue.totals() })}\n`,
      );
    else if (opts.quiet && !tty) writer.write(`${status()}\n`);
  }, 1000);
  const ttyTimer =
    tty && opts.quiet ? setInterval(() => out.write(`\r\x1b[K${status()}`), 200) : undefined;
  const tick = setInterval(() => {
    startRest();
    checkDone();
  }, 50);
  let runError: string | undefined;
  try {
    // The prefill burst goes in before the reader runs: a shallow queue overflows.
    injector?.prefill();
    s.queue.start(onBatch);
    startRest();
    checkDone();
    await stopped;
  } catch (err) {
    runError = err instanceof Error ? err.message : String(err);
    process.stderr.write(`iommuscope watch: ${runError}\n`);
    stop('error');
  } finally {
    clearInterval(statsTimer);
    clearInterval(tick);
    if (ttyTimer) clearInterval(ttyTimer);
    injector?.stop();
  }
  const teardownErrors = s.close();
  // The reader's last flush reaches JS through the event loop: let it print and record
  // (bounded: a reader that never delivers does not hold the exit).
  const last = s.queue.totals();
  const until = performance.now() + 5000;
  while (
    delivered.events + delivered.lostMarkers < last.events + last.lostMarkers &&
    performance.now() < until
  )
    await new Promise((resolve) => setTimeout(resolve, 10));
  const recorded = rec?.stop(stopReason);
  await writer.idle();
  const final: VeventSummary = {
    ...base(),
    stopReason,
    durationMs: Math.round(performance.now() - started),
    teardownErrors,
    clean: false,
  };
  if (injector) {
    const p = injector.progress();
    final.injected = p.injected;
    final.injectFailed = p.failed;
    if (p.lastError) final.injectError = p.lastError;
  }
  if (runError) final.error = runError;
  if (writer.lost) final.outputLost = writer.lost;
  if (recorded?.error) final.recordError = recorded.error;
  final.clean =
    !runError &&
    final.errors === 0 &&
    final.overflow === 0 &&
    !final.injectFailed &&
    teardownErrors.length === 0 &&
    !recorded?.error;
  if (tty && opts.quiet) out.write(`\r\x1b[K${veventStatusOf(final)}\n`);
  else if (!opts.json) out.write(`${veventStatusOf(final)}\n`);
  for (const e of teardownErrors) process.stderr.write(`iommuscope watch: teardown: ${e}\n`);
  summarize(final);
  return statusFor(final);
}

const zeroTotals: VeventTotals = {
  events: 0,
  lostMarkers: 0,
  lost: 0,
  overflow: 0,
  malformed: 0,
  reads: 0,
  bytes: 0,
  errors: 0,
};

function veventStatusOf(f: VeventSummary): string {
  return (
    `vevents ${f.events} (${f.eventsPerSec}/s)  lost ${f.lost} (markers ${f.lostMarkers})  ` +
    `errors ${f.errors}${f.injected !== undefined ? `  injected ${f.injected}` : ''}  ${f.stopReason}`
  );
}
