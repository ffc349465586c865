// `iommuscope` entry point: a table of subcommands. Other subcommands are
// added with one line each in `commands` below.
import { UsageError } from './args';
import { activitySubcommand } from './activity';
import { groupsSubcommand } from './groups';
import { watchCommand } from './watch';
import { serveCommand } from './serve';
import { startCommand } from './start';
import { drainOnCrash } from '../session/crash-drain';
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
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`iommuscope ${packageVersion()}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) {
    process.stderr.write(`iommuscope: unknown command '${first}'\n\n${usage()}\n`);
    return 2;
  }
  drainOnCrash(`iommuscope ${cmd.name}`);
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `iommuscope ${cmd.name}: ${err.message}\n(see iommuscope ${cmd.name} --help)\n`,
      );
      return 2;
    }
    process.stderr.write(
      `iommuscope ${cmd.name}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
}
