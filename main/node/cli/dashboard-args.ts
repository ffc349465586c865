// Options of `serve` and `start`: their own flags (--port, --host,
// --sysfs-root, --allow-root-for-testing) plus the fault-session flags of
// `watch`, parsed by watch's own parser so both commands accept exactly the
// same --source/--device/--pasid/--inject/--policy/--drain-code/--flush-ms.
import { isIPv4, isIPv6 } from 'node:net';
import { flagHelp, numberFlag, parseFlags, UsageError, type FlagSpec } from './args';
import { parseWatchArgs, type WatchOptions } from './watch';
import type { ActivityMode } from '../dashboard/activity-feed';

export const DEFAULT_PORT = 7420;
export const DEFAULT_HOST = '127.0.0.1';

export const dashboardFlags = {
  port: {
    type: 'string',
    value: 'N',
    help: `TCP port (default ${DEFAULT_PORT}; 0 picks a free one)`,
  },
  host: {
    type: 'string',
    value: 'ADDR',
    help: `address to listen on (default ${DEFAULT_HOST}; anything else is reachable from the network)`,
  },
  'sysfs-root': {
    type: 'string',
    value: 'PATH',
    help: 'read the host topology here (default /sys)',
  },
  activity: {
    type: 'boolean',
    help: 'Activity view: live host IOMMU activity through iommuscope-capture',
  },
  'activity-replay': {
    type: 'string',
    value: 'FILE',
    help: 'Activity view: replay a recorded iommuscope-capture stream instead',
  },
  'allow-root-for-testing': {
    type: 'boolean',
    help: 'start: let Electron run as root (test VMs only)',
  },
  help: { type: 'boolean', help: 'this help' },
} satisfies FlagSpec;

/** Session flags taken over from watch; its stop conditions make no sense here. */
const sessionFlagHelp = [
  '  --source sim|mock|iommufd, --device PATH, --pasid N, --inject SPEC, --policy POLICY,',
  '  --drain-code invalid|success, --flush-ms MS, --verbose: as in `iommuscope watch --help`',
  '  (the policy defaults to hold here: groups wait for an answer from the dashboard);',
  '  with --source or --inject a session is opened at start, otherwise from the dashboard.',
].join('\n');

export function dashboardHelp(command: 'serve' | 'start', summary: string): string {
  return [
    `usage: iommuscope ${command} [options]`,
    '',
    summary,
    '',
    flagHelp(dashboardFlags),
    sessionFlagHelp,
  ].join('\n');
}

export interface DashboardOptions {
  port: number;
  host: string;
  sysfsRoot?: string;
  allowRoot: boolean;
  /** Set when a session should be opened at start. */
  session?: WatchOptions;
  drainCode: 0 | 1;
  policy: WatchOptions['policy'];
  flushMs: number;
  verbose: boolean;
  /** Activity view source; absent: off. */
  activity?: ActivityMode;
}

// --record: the dashboard records with its Record button (recording.start).
const refusedWatchFlags = ['count', 'duration', 'json', 'record'];

export function parseDashboardArgs(argv: string[]): DashboardOptions | 'help' {
  const ours: string[] = [];
  const watchArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0]! : '';
    if (Object.prototype.hasOwnProperty.call(dashboardFlags, name)) {
      ours.push(arg);
      const def = dashboardFlags[name as keyof typeof dashboardFlags];
      if (def.type === 'string' && !arg.includes('=') && i + 1 < argv.length) ours.push(argv[++i]!);
    } else {
      if (refusedWatchFlags.includes(name)) {
        throw new UsageError(`option '--${name}' is for watch only`);
      }
      watchArgv.push(arg);
    }
  }
  const { flags, positionals } = parseFlags(ours, dashboardFlags);
  if (flags.help) return 'help';
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const parsed = parseWatchArgs(watchArgv);
  if (parsed === 'help') return 'help';
  const wantsSession = watchArgv.some((a) => /^--(source|inject)(=|$)/.test(a));
  // The dashboard is where groups are answered by hand: hold unless told otherwise.
  const policyGiven = watchArgv.some((a) => /^--policy(=|$)/.test(a));
  const policy: WatchOptions['policy'] = policyGiven
    ? parsed.policy
    : { rules: [], fallback: { kind: 'hold' } };
  const opts: DashboardOptions = {
    port:
      flags.port !== undefined
        ? numberFlag('port', flags.port, { integer: true, max: 65535 })
        : DEFAULT_PORT,
    host: flags.host ?? DEFAULT_HOST,
    allowRoot: flags['allow-root-for-testing'] ?? false,
    drainCode: parsed.drainCode,
    policy,
    flushMs: parsed.flushMs,
    verbose: parsed.verbose,
  };
  if (flags['sysfs-root']) opts.sysfsRoot = flags['sysfs-root'];
  if (flags.activity && flags['activity-replay'])
    throw new UsageError('--activity and --activity-replay exclude each other');
  if (flags.activity) opts.activity = { kind: 'live' };
  if (flags['activity-replay']) opts.activity = { kind: 'replay', file: flags['activity-replay'] };
  if (wantsSession) opts.session = { ...parsed, policy };
  return opts;
}

/** Exactly a loopback address: 'localhost', ::1 (any spelling) or an IPv4 address in 127.0.0.0/8. */
export function isLoopback(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.split('.')[0] === '127';
  if (isIPv6(h)) {
    // The URL parser writes an IPv6 address in its one canonical form (::1, ::ffff:7f00:1).
    const canonical = new URL(`http://[${h}]/`).hostname;
    if (canonical === '[::1]') return true;
    const mapped = /^\[::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}\]$/.exec(canonical);
    return mapped !== null && parseInt(mapped[1]!, 16) >> 8 === 127;
  }
  return false;
}
