// `iommuscope watch`: open a fault source, answer page requests by policy,
// print them (one line per group and per answer like tcpdump, NDJSON with
// --json, a once-a-second status with -q), stop on --count / --duration /
// end of injection / Ctrl-C, drain what is pending, print one summary line.
import { MiB, readBoundedText } from '../bounded-read';
import { GrammarError } from '../../common/grammar-error';
import { INJECT_USAGE, PASID_MAX, parseInject, type InjectSpec } from '../../common/inject';
import { parseUintRange } from '../../common/parse-values';
import { parsePolicy, parsePolicyRules, POLICY_USAGE, type PolicySpec } from '../../common/policy';
import type { FaultSourceKind } from '../../common/iommufd-objects';
import { FaultSession } from '../session/fault-session';
import { outstandingOption, policyCanHold } from '../session/native-specs';
import { didYouMean } from '../../common/suggest';
import { flagHelp, numberFlag, parseFlags, UsageError, type FlagSpec } from './args';
import type { Subcommand } from './subcommand';
import {
  batchToNdjson,
  buildSummary,
  humanStatus,
  ndjsonLostLine,
  statsLine,
  type Rates,
} from './watch-output';
import { OutWriter, type OutStream } from './out-writer';
import type { NativeAddon } from '../native/addon-types';
import { TextFormatter, textLostLine } from './watch-text';
import { exitPaths, ExitStatus, statusFor } from './exit-paths';
import { runOutput } from './run-output';
import { parseFilter } from '../../common/filter/parser';
import { FilterError, formatCaret } from '../../common/filter/errors';
import type { Expr } from '../../common/filter/ast';
import { WatchFilter } from './watch-filter';
import { recordFlagSpec, startWatchRecording } from './record-flag';
import type { Recorder } from '../recording/recorder';
import { VEVENT_INJECT_USAGE } from '../../common/vevent-inject';
import { VEVENTQ_DEFAULT_DEPTH, VEVENTQ_MAX_DEPTH } from '../sources/vevent-source';
import { runVeventWatch, veventWatchOptions, type VeventWatchOptions } from './watch-vevent';

const flagSpec = {
  source: {
    type: 'string',
    value: 'sim|mock|iommufd|vevent',
    help: "where page requests come from (default sim); vevent: a vIOMMU's vEVENTQ (kernel 6.15+)",
  },
  device: {
    type: 'string',
    value: '/dev/vfio/devices/vfioN',
    help: 'iommufd: the VFIO device cdev; vevent: a device behind an ARM SMMUv3 / Tegra241 CMDQV (default: the selftest mock)',
  },
  depth: {
    type: 'string',
    value: 'N',
    help: `vevent: the vEVENTQ depth, 1..${VEVENTQ_MAX_DEPTH} (default ${VEVENTQ_DEFAULT_DEPTH}); more events than that unread are lost`,
  },
  'virt-id': {
    type: 'string',
    value: 'ID',
    help: "vevent: the vDEVICE's virtual id (SMMUv3 vSID), decimal or 0x hex (default 0x1)",
  },
  pasid: {
    type: 'string',
    value: 'N|A-B',
    help: 'iommufd: attach to PASID N of the device; mock: attach PASIDs A..B (kernel with PASID attach)',
  },
  inject: {
    type: 'string',
    value: 'SPEC',
    help: `sim/mock: inject ${INJECT_USAGE}; vevent (mock): ${VEVENT_INJECT_USAGE}`,
  },
  policy: {
    type: 'string',
    value: 'POLICY',
    help: `automatic answers: ${POLICY_USAGE} (default invalid)`,
  },
  'drain-code': {
    type: 'string',
    value: 'invalid|success',
    help: 'answer for groups still pending at exit (default invalid)',
  },
  filter: {
    type: 'string',
    value: 'TEXT',
    help: 'print only groups matching this display filter (README "Filters and rules"), and their answers',
  },
  count: { type: 'string', value: 'N', help: 'stop after N page requests were read' },
  duration: { type: 'string', value: 'S', help: 'stop after S seconds' },
  json: { type: 'boolean', help: 'NDJSON events (fault, response, stats) on stdout' },
  quiet: {
    type: 'boolean',
    short: 'q',
    help: 'text mode: a status line once a second instead of a line per group and answer',
  },
  'flush-ms': {
    type: 'string',
    value: 'MS',
    help: 'minimum ms between batches from the reader (default 10)',
  },
  verbose: { type: 'boolean', help: 'print each kernel set-up step on stderr' },
  ...recordFlagSpec,
  help: { type: 'boolean', help: 'this help' },
} satisfies FlagSpec;

export interface WatchOptions {
  source: FaultSourceKind;
  device?: string;
  pasid?: number;
  /** mock: the last PASID of --pasid A-B. */
  pasidLast?: number;
  inject?: InjectSpec;
  policy: PolicySpec;
  /** --filter: only matching groups (and their answers) are printed. */
  filter?: Expr;
  drainCode: 0 | 1;
  count?: number;
  durationS?: number;
  json: boolean;
  quiet: boolean;
  flushMs: number;
  verbose: boolean;
  /** --record FILE: a new capture of the whole session. */
  record?: string;
}

export function watchHelp(): string {
  return [
    'usage: iommuscope watch [--source sim|mock|iommufd|vevent] [options]',
    '',
    'Reads page requests from a fault queue, answers them by policy, and prints them: one line per',
    'group read and one per answer (time group N dev D pasid P grp G cookie C perm addr +Np;',
    'time group N success|invalid by user|policy rule R|drain|kernel latency), or NDJSON with --json.',
    'On exit (and on Ctrl-C) pending groups are drained, then one {"type":"summary"} line is printed;',
    'the exit status is non-zero when a fault went unanswered or a kernel call failed.',
    "--source vevent reads a vIOMMU's vEVENTQ instead: one line per vEVENT (sequence, virt id, decode,",
    'hex data) and one per loss; nothing to answer.',
    '',
    flagHelp(flagSpec),
    '',
    'examples:',
    '  iommuscope watch --source sim --inject count=1000,rate=500,pasids=1-4,devices=2,group=4 --policy success',
    '  iommuscope watch --source mock --inject count=1000 --policy success --json',
    "  iommuscope watch --inject count=1000,pasids=1-8 --policy success --filter 'pasid in {1..4} && latency > 10us'",
    '  iommuscope watch --source sim --inject count=1000 --policy success --record run.pcapng.gz',
    '  iommuscope watch --source iommufd --device /dev/vfio/devices/vfio0 --policy @rules.json',
    '  iommuscope watch --source vevent --depth 64 --virt-id 0x8 --inject count=1000 --json',
  ].join('\n');
}

/** A rules file is a few rules; anything this big is the wrong file. */
export const RULES_FILE_MAX_BYTES = 1 * MiB;

function readPolicy(text: string): PolicySpec {
  if (!text.startsWith('@')) return parsePolicy(text);
  const file = text.slice(1);
  let body: string;
  try {
    body = readBoundedText(file, RULES_FILE_MAX_BYTES, 'the rules file');
  } catch (err) {
    throw new UsageError(`--policy ${text}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new UsageError(
      `--policy ${text}: the rules file ${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return parsePolicyRules(json, file);
}

/** --filter text → its expression; a bad text is a UsageError with the caret under the problem. */
export function parseWatchFilter(text: string): Expr {
  try {
    return parseFilter(text);
  } catch (err) {
    if (err instanceof FilterError)
      throw new UsageError(`--filter: ${err.message}\n${formatCaret(text, err.problem)}`);
    throw err;
  }
}

/** argv → options for any source (vevent included); every problem is a UsageError (exit 2). */
export function parseWatchCommand(argv: string[]): WatchOptions | VeventWatchOptions | 'help' {
  const { flags, positionals } = parseFlags(argv, flagSpec);
  if (flags.help) return 'help';
  if (flags.source === 'vevent') return veventWatchOptions(flags, positionals);
  return parseWatchArgs(argv);
}

/** argv → options of a fault source; every problem is a UsageError (exit 2). */
export function parseWatchArgs(argv: string[]): WatchOptions | 'help' {
  const { flags, positionals } = parseFlags(argv, flagSpec);
  if (flags.help) return 'help';
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const source = flags.source ?? 'sim';
  if (source === 'vevent')
    throw new UsageError('--source vevent is for `iommuscope watch` (not serve or agent yet)');
  if (source !== 'sim' && source !== 'mock' && source !== 'iommufd') {
    throw new UsageError(
      `--source '${source}' must be sim, mock, iommufd or vevent${didYouMean(source, ['sim', 'mock', 'iommufd', 'vevent'])}`,
    );
  }
  for (const f of ['depth', 'virt-id'] as const)
    if (flags[f] !== undefined) throw new UsageError(`--${f} is only for --source vevent`);
  if (source === 'iommufd' && !flags.device)
    throw new UsageError('--source iommufd needs --device /dev/vfio/devices/vfioN');
  if (source !== 'iommufd' && flags.device)
    throw new UsageError('--device is only for --source iommufd');
  if (source === 'sim' && flags.pasid)
    throw new UsageError('--pasid is only for --source iommufd or mock');
  if (source === 'iommufd' && flags.inject) {
    throw new UsageError(
      '--inject works with --source sim or mock (a real device cannot be made to fault from here)',
    );
  }
  const drain = flags['drain-code'] ?? 'invalid';
  if (drain !== 'invalid' && drain !== 'success')
    throw new UsageError(`--drain-code '${drain}' must be invalid or success`);
  try {
    const opts: WatchOptions = {
      source,
      policy: readPolicy(flags.policy ?? 'invalid'),
      drainCode: drain === 'success' ? 0 : 1,
      json: flags.json ?? false,
      quiet: flags.quiet ?? false,
      flushMs: flags['flush-ms']
        ? numberFlag('flush-ms', flags['flush-ms'], { integer: true, min: 1, max: 10_000 })
        : 10,
      verbose: flags.verbose ?? false,
    };
    if (flags.device) opts.device = flags.device;
    if (flags.record) opts.record = flags.record;
    if (flags.pasid) {
      const range = parseUintRange(flags.pasid, '--pasid', 1, PASID_MAX);
      if (!range.ok) throw new UsageError(range.error);
      const { min: first, max: last } = range.value;
      if (last - first >= 64) throw new UsageError('--pasid A-B attaches at most 64 PASIDs');
      if (source === 'iommufd' && first !== last)
        throw new UsageError('--source iommufd attaches one PASID: --pasid N');
      opts.pasid = first;
      if (last !== first) opts.pasidLast = last;
    }
    if (flags.inject) opts.inject = parseInject(flags.inject);
    // Behind PASIDs the mock's page requests must name them: default to the attached range.
    if (
      flags.inject &&
      opts.inject &&
      opts.pasid !== undefined &&
      !/(^|,)pasids=/.test(flags.inject)
    ) {
      opts.inject.pasidMin = opts.pasid;
      opts.inject.pasidMax = opts.pasidLast ?? opts.pasid;
    }
    if (flags.filter !== undefined) opts.filter = parseWatchFilter(flags.filter);
    if (flags.count) opts.count = numberFlag('count', flags.count, { integer: true, min: 1 });
    if (flags.duration) opts.durationS = numberFlag('duration', flags.duration, { min: 0.001 });
    if (
      opts.inject &&
      source === 'mock' &&
      (opts.inject.groupPages !== 1 || opts.inject.devices !== 1)
    ) {
      throw new UsageError(
        '--inject group=K and devices=K need --source sim (the mock device makes one-page groups on one device)',
      );
    }
    if (opts.inject?.outstanding !== undefined && source !== 'sim') {
      throw new UsageError(
        "--inject outstanding=N needs --source sim (a real or mock device's PRI credit is its own)",
      );
    }
    return opts;
  } catch (err) {
    if (err instanceof GrammarError) throw new UsageError(err.message);
    throw err;
  }
}

/** Where `watch` writes and what it opens, replaceable by tests (default: the process's stdout, the built addon). */
export interface WatchEnv {
  out?: OutStream & { isTTY?: boolean };
  addon?: NativeAddon;
  /** sim: PRI credit (groups outstanding before the simulated device stalls). */
  outstandingLimit?: number;
}

export async function runWatch(opts: WatchOptions, env: WatchEnv = {}): Promise<number> {
  const started = performance.now();
  const log = opts.verbose ? (s: string) => process.stderr.write(`iommuscope: ${s}\n`) : undefined;
  let session: FaultSession | undefined;
  let stopReason = '';
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const stop = (reason: string): void => {
    if (stopReason) return;
    stopReason = reason;
    wake();
  };
  // Signals and a closed stdout stop the run; a crash drains it (exit-paths.ts).
  const run = exitPaths().begin({
    drainCode: opts.drainCode,
    stopOnStdoutClosed: true,
    onStop: stop,
    crashSummary: (c) => ({
      ...buildSummary(opts.source, undefined, c.stopReason, performance.now() - started, c.error),
      ...(session ? session.totals() : {}),
      answeredBy: undefined,
      drained: c.drained,
      clean: false,
    }),
  });
  const { out, summarize } = runOutput(run, env.out);
  try {
    session = FaultSession.open({
      source: opts.source,
      ...(opts.device ? { device: opts.device } : {}),
      ...(opts.pasid !== undefined ? { pasid: opts.pasid } : {}),
      ...(opts.pasidLast !== undefined ? { pasidLast: opts.pasidLast } : {}),
      flushIntervalMs: opts.flushMs,
      policy: opts.policy,
      ...(env.addon ? { addon: env.addon } : {}),
      ...outstandingOption(env.outstandingLimit ?? opts.inject?.outstanding),
      ...(log ? { log } : {}),
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`iommuscope watch: ${msg}\n`);
    summarize(buildSummary(opts.source, undefined, 'error', performance.now() - started, msg));
    return ExitStatus.Unclean;
  }
  const s = session;

  // Recording starts before anything is injected, so the file holds every batch.
  let rec: Recorder | undefined;
  if (opts.record) {
    try {
      rec = startWatchRecording(
        opts.record,
        s.subscribeBatches,
        {
          queue: s.source.queue.id,
          source: opts.source,
          ...(opts.device ? { device: opts.device } : {}),
          ...(opts.pasid !== undefined ? { pasid: opts.pasid } : {}),
          policy: opts.policy,
          ...(opts.inject ? { inject: opts.inject } : {}),
        },
        (err) => process.stderr.write(`iommuscope watch: ${err.message}\n`),
      );
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      process.stderr.write(`iommuscope watch: --record ${opts.record}: ${msg}\n`);
      const summary = await s.close({ drainCode: opts.drainCode });
      summarize(buildSummary(opts.source, summary, 'error', performance.now() - started, msg));
      return ExitStatus.Unclean;
    }
  }

  const tty = !opts.json && out.isTTY === true;
  const rates = (): Rates => {
    const elapsedMs = performance.now() - started;
    return { elapsedMs, faultsPerSec: (s.totals().faults * 1000) / Math.max(elapsedMs, 1) };
  };
  const canHold = policyCanHold(opts.policy);
  const checkDone = (): void => {
    const t = s.totals();
    if (opts.count !== undefined && t.faults >= opts.count) return stop('count');
    if (opts.durationS !== undefined && performance.now() - started >= opts.durationS * 1000)
      return stop('duration');
    if (opts.inject && opts.count === undefined && opts.durationS === undefined) {
      const p = s.injectProgress();
      // Everything injected has been read, and answered unless the policy holds (then the drain answers).
      if (p?.done && t.faults >= p.injected && (t.pending === 0 || canHold || t.errors > 0))
        stop('injection done');
    }
  };
  // One chunk per batch through a writer that waits for 'drain' instead of blocking.
  const writer = new OutWriter(out, opts.json ? ndjsonLostLine : textLostLine);
  const text = opts.json || opts.quiet ? undefined : new TextFormatter();
  const filter = opts.filter && !(opts.quiet && !opts.json) ? new WatchFilter(opts.filter) : null;
  s.on('batch', (b) => {
    const keep = filter?.select(b);
    if (opts.json) {
      const o = batchToNdjson(b, keep);
      if (o.lines) writer.write(o.text, o.lines);
    } else if (text) {
      const o = text.batch(b, undefined, keep);
      if (o.lines) writer.write(o.text, o.lines);
    }
    checkDone();
  });
  const statsTimer = setInterval(() => {
    const t = s.totals();
    if (opts.json) writer.write(statsLine(t, rates()));
    else if (opts.quiet && !tty) writer.write(`${humanStatus(t, rates())}\n`);
  }, 1000);
  const ttyTimer =
    tty && opts.quiet
      ? setInterval(() => out.write(`\r\x1b[K${humanStatus(s.totals(), rates())}`), 200)
      : undefined;
  const tick = setInterval(checkDone, 50);

  let runError: string | undefined;
  try {
    if (opts.inject) s.inject(opts.inject);
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
  }
  // Every path ends here: drain, detach, tear down.
  const summary = await s.close({ drainCode: opts.drainCode });
  // After close: the final drain's batch is in the file.
  const recorded = rec?.stop(stopReason);
  await idleOrGone(writer, () => run.stdoutClosed);
  if (tty && opts.quiet) out.write(`\r\x1b[K${humanStatus(summary, rates())}\n`);
  else if (!opts.json) out.write(`${humanStatus(summary, rates())}\n`);
  for (const e of summary.teardownErrors)
    process.stderr.write(`iommuscope watch: teardown: ${e}\n`);
  const final = buildSummary(
    opts.source,
    summary,
    stopReason,
    performance.now() - started,
    runError,
  );
  if (writer.lost) final.outputLost = writer.lost;
  if (recorded?.error) {
    // A recording that stopped early (disk full) is not the whole session: say so in the exit status.
    final.recordError = recorded.error;
    final.clean = false;
  }
  summarize(final);
  return statusFor(final);
}

/** The writer's backlog reached the stream, or the stream is gone (then nobody reads it). */
async function idleOrGone(writer: OutWriter, gone: () => boolean): Promise<void> {
  let poll: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    poll = setInterval(() => gone() && resolve(), 50);
  });
  await Promise.race([writer.idle(), closed]);
  clearInterval(poll);
}

export const watchCommand: Subcommand = {
  async run(argv) {
    const opts = parseWatchCommand(argv);
    if (opts === 'help') {
      process.stdout.write(`${watchHelp()}\n`);
      return 0;
    }
    return opts.source === 'vevent' ? runVeventWatch(opts) : runWatch(opts);
  },
};
