// `iommuscope export FILE --format csv|ndjson|perfetto`: a recording as a
// table (groups or events) or as a Chrome/Perfetto trace. Streams the file;
// a torn or damaged file exports everything before the damage and exits 1.
import { closeSync, openSync, writeSync } from 'node:fs';
import { captureFrames, fileSource } from '../recording/capture-reader';
import { TableExporter, type ExportTable } from '../recording/export-table';
import { PerfettoExporter } from '../recording/export-perfetto';
import { RecordingError } from '../recording/recording-error';
import { flagHelp, parseFlags, UsageError, type FlagSpec } from './args';
import type { Subcommand } from './subcommand';
import { recordingFileArg } from './recording-arg';

const flagSpec = {
  format: {
    type: 'string',
    value: 'csv|ndjson|perfetto',
    help: 'csv or ndjson table, or a Chrome trace-event JSON for ui.perfetto.dev',
  },
  table: {
    type: 'string',
    value: 'groups|events',
    help: 'csv/ndjson: one row per group (read joined with answer; default) or per event',
  },
  output: { type: 'string', value: 'FILE', help: 'write to FILE (default stdout)' },
  help: { type: 'boolean', help: 'this help' },
} satisfies FlagSpec;

export interface ExportOptions {
  file: string;
  format: 'csv' | 'ndjson' | 'perfetto';
  table: ExportTable;
  output?: string;
}

export function exportHelp(): string {
  return [
    'usage: iommuscope export FILE --format csv|ndjson|perfetto [--table groups|events] [--output FILE]',
    '',
    'Writes a recording as a table or as a trace. In the trace each device is a process and each',
    'PASID a thread; groups are slices from read to answer; page-request and answer rates and pending',
    'groups are counters. Times are CLOCK_MONOTONIC µs (line up with perf record -k CLOCK_MONOTONIC).',
    '',
    flagHelp(flagSpec),
  ].join('\n');
}

export function parseExportArgs(argv: string[]): ExportOptions | 'help' {
  const { flags, positionals } = parseFlags(argv, flagSpec);
  if (flags.help) return 'help';
  const file = recordingFileArg(positionals);
  const format = flags.format;
  if (format !== 'csv' && format !== 'ndjson' && format !== 'perfetto')
    throw new UsageError(
      format
        ? `--format '${format}' must be csv, ndjson or perfetto`
        : '--format csv|ndjson|perfetto is needed',
    );
  const table = flags.table ?? 'groups';
  if (table !== 'groups' && table !== 'events')
    throw new UsageError(`--table '${table}' must be groups or events`);
  if (format === 'perfetto' && flags.table)
    throw new UsageError('--table is for csv and ndjson (a trace holds both groups and counters)');
  return {
    file,
    format,
    table,
    ...(flags.output ? { output: flags.output } : {}),
  };
}

/** Export; returns the RecordingError that stopped it early, or null. */
export function exportRecording(
  opts: ExportOptions,
  write: (text: string) => void,
): RecordingError | null {
  const src = fileSource(opts.file);
  const perfetto = opts.format === 'perfetto' ? new PerfettoExporter() : null;
  const table =
    opts.format === 'perfetto' ? null : new TableExporter(opts.format, opts.table, write);
  let error: RecordingError | null = null;
  try {
    for (const { frame } of captureFrames(src)) {
      if (perfetto) perfetto.add(frame);
      else table!.add(frame);
    }
  } catch (err) {
    if (!(err instanceof RecordingError)) throw err;
    error = err;
  } finally {
    src.close();
  }
  if (perfetto) perfetto.end(write);
  else table!.end();
  return error;
}

export const exportCommand: Subcommand = {
  async run(argv) {
    const opts = parseExportArgs(argv);
    if (opts === 'help') {
      process.stdout.write(`${exportHelp()}\n`);
      return 0;
    }
    let fd = 1;
    if (opts.output) {
      try {
        fd = openSync(opts.output, 'w', 0o644);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(`cannot write ${opts.output} (${e.code ?? 'error'}): ${e.message}`, {
          cause: err,
        });
      }
    }
    let buffered: string[] = [];
    let size = 0;
    const flush = (): void => {
      const b = Buffer.from(buffered.join(''));
      // stdout may be a non-blocking pipe: let the stream queue it.
      if (fd === 1) process.stdout.write(b);
      else for (let off = 0; off < b.length;) off += writeSync(fd, b, off);
      buffered = [];
      size = 0;
    };
    const error = exportRecording(opts, (text) => {
      buffered.push(text);
      size += text.length;
      if (size >= 1 << 16) flush();
    });
    flush();
    if (fd !== 1) closeSync(fd);
    else await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    if (error) {
      process.stderr.write(
        `iommuscope export: ${error.message}\n(everything before byte ${error.offset} was exported)\n`,
      );
      return 1;
    }
    return 0;
  },
};
