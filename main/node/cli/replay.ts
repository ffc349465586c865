// `iommuscope replay FILE`: play a recording back through the replay source,
// paced by its recorded times × --speed, printing what watch printed (NDJSON
// with --json: fault/response/error lines carrying `group`, then a summary).
// Nothing is written to a kernel; answers are the recorded ones.
import { answeredByNames } from '../../common/contract';
import { ReplayQueue } from '../recording/replay-queue';
import type { FaultBatch, QueueTotals } from '../native/addon-types';
import { faultBatchToNdjson, otherFrameLine } from '../recording/batch-ndjson';
import { flagHelp, numberFlag, parseFlags, UsageError, type FlagSpec } from './args';
import type { Subcommand } from './subcommand';
import { attachReplayKeys } from './replay-keys';
import { recordingFileArg } from './recording-arg';

const flagSpec = {
  speed: {
    type: 'string',
    value: 'X',
    help: 'play X times faster than recorded (default 1; "max" = as fast as possible)',
  },
  from: { type: 'string', value: 'S', help: 'start S seconds into the recording' },
  queue: { type: 'string', value: 'N', help: 'the recorded queue to play (default the first)' },
  json: {
    type: 'boolean',
    help: 'NDJSON events (fault, response, error, stats, summary) on stdout',
  },
  help: { type: 'boolean', help: 'this help' },
} satisfies FlagSpec;

export interface ReplayCliOptions {
  file: string;
  speed: number;
  fromS: number;
  queue?: number;
  json: boolean;
}

export function replayHelp(): string {
  return [
    'usage: iommuscope replay FILE [--speed X] [--from S] [--json]',
    '',
    'Plays a recording (watch --record, the dashboard Record button) back as a fault source:',
    'the recorded page requests, answers and totals, paced by their recorded times.',
    'Nothing is written to a kernel. Exit status 1 when the file is torn or damaged',
    '(everything before the damage is played, and the error names the byte offset).',
    '',
    flagHelp(flagSpec),
  ].join('\n');
}

export function parseReplayArgs(argv: string[]): ReplayCliOptions | 'help' {
  const { flags, positionals } = parseFlags(argv, flagSpec);
  if (flags.help) return 'help';
  const file = recordingFileArg(positionals);
  const speed =
    flags.speed === undefined
      ? 1
      : flags.speed === 'max'
        ? Infinity
        : numberFlag('speed', flags.speed, { min: 0.001 });
  if (speed <= 0) throw new UsageError('--speed must be > 0');
  const opts: ReplayCliOptions = {
    file,
    speed,
    fromS: flags.from ? numberFlag('from', flags.from) : 0,
    json: flags.json ?? false,
  };
  if (flags.queue) opts.queue = numberFlag('queue', flags.queue, { integer: true, min: 1 });
  return opts;
}

function totalsLine(t: QueueTotals): string {
  return (
    `faults ${t.faults}  groups ${t.groups}  answered ${t.answered} (ok ${t.success}, invalid ${t.invalid}; ` +
    `user ${t.byUser}, policy ${t.byPolicy}, drain ${t.byDrain}, kernel ${t.byKernel})  ` +
    `pending ${t.pending}  errors ${t.errors}${t.overflow ? `  overflow ${t.overflow}` : ''}`
  );
}

export async function runReplay(opts: ReplayCliOptions): Promise<number> {
  const out = process.stdout;
  const queue = new ReplayQueue(opts.file, {
    speed: opts.speed,
    paused: true,
    ...(opts.queue !== undefined ? { queue: opts.queue } : {}),
    onFrame: (f) => {
      if (!opts.json) return;
      const line = otherFrameLine(f);
      if (line) out.write(`${line}\n`);
    },
  });
  const ix = queue.index;
  const h = ix.header;
  const seconds = ix.firstNs !== null && ix.lastNs !== null ? (ix.lastNs - ix.firstNs) / 1e9 : 0;
  const intro =
    `replaying ${opts.file}: recorded on ${h.host} (${h.kernel}) at ${h.startWall} by iommuscope ${h.toolVersion}, ` +
    `${ix.batches} batches over ${seconds.toFixed(1)} s, queue ${queue.recordedQueue}` +
    (ix.error
      ? `; readable up to byte ${ix.error.offset}`
      : ix.closed
        ? ''
        : '; not closed (the recorder was killed?)');
  process.stderr.write(`iommuscope replay: ${intro}\n`);

  let batches = 0;
  let endError: string | null = null;
  const finished = new Promise<void>((resolve) =>
    queue.on((e) => {
      if (e.type === 'end') {
        if (e.error) endError = e.error.message;
        resolve();
      }
    }),
  );
  queue.start((b: FaultBatch) => {
    batches++;
    if (opts.json) {
      const text = faultBatchToNdjson(b);
      if (text) out.write(text);
    }
  });
  // A started queue does not keep the process alive (like the native one): this does.
  const keepAlive = setInterval(() => {
    if (opts.json)
      out.write(
        `${JSON.stringify({ type: 'stats', positionNs: queue.position().ns, ...queue.totals() })}\n`,
      );
    else out.write(`${totalsLine(queue.totals())}\n`);
  }, 1000);
  let quit: () => void = () => {};
  const quitted = new Promise<void>((r) => (quit = r));
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  const detachKeys = opts.json
    ? () => {}
    : attachReplayKeys(queue, quit, (s) => process.stderr.write(`iommuscope replay: ${s}\n`));
  if (opts.fromS > 0 && ix.firstNs !== null) queue.seek(ix.firstNs + opts.fromS * 1e9);
  queue.resume();
  await Promise.race([finished, quitted]);
  detachKeys();
  clearInterval(keepAlive);
  process.off('SIGINT', quit);
  process.off('SIGTERM', quit);
  const t = queue.totals();
  queue.close();
  if (endError) process.stderr.write(`iommuscope replay: ${endError}\n`);
  if (!opts.json) out.write(`${totalsLine(t)}\n`);
  const summary = {
    type: 'summary',
    source: 'replay',
    file: opts.file,
    host: h.host,
    kernel: h.kernel,
    recordedQueue: queue.recordedQueue,
    batches,
    ...t,
    answeredBy: Object.fromEntries(
      answeredByNames.map((n) => [
        n,
        t[`by${n[0]!.toUpperCase()}${n.slice(1)}` as keyof QueueTotals],
      ]),
    ),
    closed: ix.closed,
    error: endError,
    clean: endError === null,
  };
  out.write(`${JSON.stringify(summary)}\n`);
  return endError === null ? 0 : 1;
}

export const replayCommand: Subcommand = {
  async run(argv) {
    const opts = parseReplayArgs(argv);
    if (opts === 'help') {
      process.stdout.write(`${replayHelp()}\n`);
      return 0;
    }
    return runReplay(opts);
  },
};
