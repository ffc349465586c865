// `iommuscope` entry point: a table of subcommands, each loaded only when it
// runs. A new subcommand is one entry in `commands` below.
import { UsageError } from './args';
import { ExitStatus, installExitPaths } from './exit-paths';
import type { Subcommand } from './subcommand';
import { IommuscopeError } from '../errors';
import { escapeForTerminal } from '../../common/terminal-text';
import { didYouMean } from '../../common/suggest';
import { packageVersion } from '../dashboard/version';

interface CommandEntry {
  name: string;
  summary: string;
  /** Loaded only when run: under a slow file system (the test VMs' 9p root)
   * loading every command's modules cost seconds per start. */
  load(): Promise<Subcommand>;
}

const commands: CommandEntry[] = [
  {
    name: 'groups',
    summary: 'IOMMU units, groups and devices with ATS/PRI/PASID state and VFIO viability',
    load: async () => (await import('./groups.js')).groupsSubcommand,
  },
  {
    name: 'watch',
    summary:
      'read, answer and print page requests from a fault queue (sim, mock or a VFIO device), or read a vEVENTQ',
    load: async () => (await import('./watch.js')).watchCommand,
  },
  {
    name: 'serve',
    summary: 'the dashboard in a web browser (prints the URL with its access token)',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'start',
    summary: 'the desktop app (falls back to the browser dashboard without Electron)',
    load: async () => (await import('./start.js')).startCommand,
  },
  {
    name: 'replay',
    summary: 'play a recording back (paced, --speed), as watch printed it; never touches a kernel',
    load: async () => (await import('./replay.js')).replayCommand,
  },
  {
    name: 'export',
    summary: 'a recording as CSV/NDJSON tables or a Perfetto (Chrome trace) JSON',
    load: async () => (await import('./export.js')).exportCommand,
  },
  {
    name: 'agent',
    summary:
      'headless core for lab hosts: /metrics for Prometheus (topology, optional fault session)',
    load: async () => (await import('./agent.js')).agentCommand,
  },
  {
    name: 'activity',
    summary:
      'live host IOMMU activity: decoded DMA faults, map/unmap/invalidation rates, interrupts',
    load: async () => (await import('./activity.js')).activitySubcommand,
  },
];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: iommuscope <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    '`iommuscope <command> --help` shows the options of one command.',
    'options: --help, --version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? process.stderr : process.stdout).write(`${usage()}\n`);
    return first === undefined ? ExitStatus.Usage : ExitStatus.Clean;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`iommuscope ${packageVersion()}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) {
    const hint = didYouMean(
      first,
      commands.map((c) => c.name),
    );
    process.stderr.write(`iommuscope: unknown command '${first}'${hint}\n\n${usage()}\n`);
    return ExitStatus.Usage;
  }
  installExitPaths(`iommuscope ${cmd.name}`);
  try {
    return await (await cmd.load()).run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `iommuscope ${cmd.name}: ${err.message}\n(see iommuscope ${cmd.name} --help)\n`,
      );
      return ExitStatus.Usage;
    }
    if (isBug(err)) {
      process.stderr.write(`iommuscope ${cmd.name}: internal error: ${err.stack ?? err.message}\n`);
      return ExitStatus.Internal;
    }
    // Messages may quote sysfs or kernel text: escaped for the terminal.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`iommuscope ${cmd.name}: ${escapeForTerminal(message)}\n`);
    return ExitStatus.Unclean;
  }
}

/** A programming error (exit 70), as opposed to a failed call or a bad file (exit 1). */
function isBug(err: unknown): err is Error {
  if (err instanceof IommuscopeError) return false;
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  );
}
