// `iommuscope` entry point: a table of subcommands. Other subcommands are
// added with one line each in `commands` below.
import { UsageError } from './args';
import { activitySubcommand } from './activity';
import { groupsSubcommand } from './groups';
import { watchCommand } from './watch';
import { serveCommand } from './serve';
import { startCommand } from './start';
import { replayCommand } from './replay';
import { exportCommand } from './export';
import { agentCommand } from './agent';
import { ExitStatus, installExitPaths } from './exit-paths';
import { IommuscopeError } from '../errors';
import { escapeForTerminal } from '../../common/terminal-text';
import { didYouMean } from '../../common/suggest';
import { packageVersion } from '../dashboard/version';

export interface Subcommand {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commands: Subcommand[] = [
  groupsSubcommand,
  watchCommand,
  serveCommand,
  startCommand,
  replayCommand,
  exportCommand,
  agentCommand,
  activitySubcommand,
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
    return await cmd.run(rest);
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
