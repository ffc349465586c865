// `iommuscope groups`: IOMMU units, groups and devices with ATS/PRI/PASID
// state and the VFIO viability verdict, once or live (--watch).
import type { HostTopology, TopologyUpdate } from '../../common/host-topology';
import { formatTopology } from '../topology/format';
import { formatDeviceLines } from '../topology/format-lines';
import { escapeForTerminal, escapeLineForTerminal } from '../../common/terminal-text';
import { loadPciIds } from '../topology/pci-ids';
import { scanTopology, type ScanOptions } from '../topology/scan';
import { isVfioDriver } from '../topology/viability';
import { TopologyWatcher } from '../topology/watcher';
import { flagHelp, numberFlag, parseFlags, UsageError } from './args';
import type { Subcommand } from './subcommand';

const FLAGS = {
  json: { type: 'boolean', help: 'one JSON document with units, groups and devices' },
  'sysfs-root': { type: 'string', value: 'DIR', help: 'read sysfs from DIR instead of /sys' },
  device: {
    type: 'string',
    value: 'ADDR',
    help: 'only this device (e.g. 0000:00:05.0 or 00:05.0) and its group',
  },
  group: { type: 'string', value: 'N', help: 'only IOMMU group N' },
  vfio: { type: 'boolean', help: 'only groups with a device bound to a VFIO driver' },
  'pci-ids': {
    type: 'string',
    value: 'FILE',
    help: 'pci.ids for names (default /usr/share/misc/pci.ids)',
  },
  'no-names': { type: 'boolean', help: 'do not look up vendor/device/class names' },
  'by-group': {
    type: 'boolean',
    help: 'one block per IOMMU group (units, reserved regions, table)',
  },
  watch: { type: 'boolean', help: 'keep running and print change events (JSON lines with --json)' },
  interval: { type: 'string', value: 'MS', help: 'rescan interval for --watch (default 1000)' },
  help: { type: 'boolean', help: 'this help' },
} as const;

function helpText(): string {
  return [
    'usage: iommuscope groups [options]',
    '',
    'Lists every IOMMU unit and its decoded capabilities, every IOMMU group with its',
    'reserved regions and VFIO viability, and every device with its driver, VFIO cdev',
    'and ATS/PRI/PASID state. Reading ATS/PRI/PASID needs config space past 64 bytes,',
    'which needs root (CAP_SYS_ADMIN); without it they show as unknown (?).',
    '',
    'By default one line per device (grep-able, like ls-iommu); -v adds the capability',
    'decode (ATS STU/queue depth, PRI capacity/allocation/status, PASID exec/priv) and',
    'the units, -vv also ACS and the upstream bridge.',
    '',
    '  -v, -vv  more detail per device (--verbose counts as -v)',
    flagHelp(FLAGS),
  ].join('\n');
}

/** Accepts '0000:00:05.0' or '00:05.0' (domain 0000 assumed). */
function normalizeAddress(a: string): string {
  return /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(a) ? `0000:${a.toLowerCase()}` : a.toLowerCase();
}

export interface GroupsFilter {
  device?: string;
  group?: number;
  vfio?: boolean;
}

/** Narrows the document to the filter; units stay whole (they are few). */
export function filterTopology(t: HostTopology, f: GroupsFilter): HostTopology {
  let groups = t.groups;
  let devices = t.devices;
  if (f.device !== undefined) {
    const want = normalizeAddress(f.device);
    const d = t.devices.find((x) => x.address.toLowerCase() === want);
    devices = d ? [d] : [];
    groups = d && d.group !== null ? groups.filter((g) => g.id === d.group) : [];
  }
  if (f.group !== undefined) {
    groups = groups.filter((g) => g.id === f.group);
    devices = devices.filter((d) => d.group === f.group);
  }
  if (f.vfio) {
    const vfioGroups = new Set(devices.filter((d) => isVfioDriver(d.driver)).map((d) => d.group));
    groups = groups.filter((g) => vfioGroups.has(g.id));
    devices = devices.filter((d) => d.group !== null && vfioGroups.has(d.group));
  }
  return { ...t, groups, devices };
}

function changeLine(u: TopologyUpdate): string {
  return u.changes
    .map((c) => `${c.kind} ${c.entity} ${c.id}${c.fields ? ` (${c.fields.join(', ')})` : ''}`)
    .join('\n');
}

/** -v / -vv / --verbose (repeatable) → 0..2, and the rest of argv. */
function verbosityOf(argv: string[]): { verbosity: 0 | 1 | 2; rest: string[] } {
  let n = 0;
  const rest: string[] = [];
  for (const a of argv) {
    if (/^-v+$/.test(a)) n += a.length - 1;
    else if (a === '--verbose') n += 1;
    else rest.push(a);
  }
  return { verbosity: n >= 2 ? 2 : n === 1 ? 1 : 0, rest };
}

export async function groupsCommand(argvIn: string[]): Promise<number> {
  const { verbosity, rest: argv } = verbosityOf(argvIn);
  const { flags, positionals } = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (flags.interval !== undefined && !flags.watch)
    throw new UsageError('--interval needs --watch');
  const filter: GroupsFilter = {
    device: flags.device,
    group:
      flags.group === undefined ? undefined : numberFlag('group', flags.group, { integer: true }),
    vfio: flags.vfio,
  };
  const opts: ScanOptions = {
    sysfsRoot: flags['sysfs-root'] ?? '/sys',
    pciIds: flags['no-names'] ? null : loadPciIds(flags['pci-ids']),
  };
  if (flags['pci-ids'] && !flags['no-names'] && opts.pciIds === null) {
    throw new UsageError(`--pci-ids ${flags['pci-ids']}: cannot read that file`);
  }
  const intervalMs =
    flags.interval === undefined ? 1000 : numberFlag('interval', flags.interval, { min: 20 });
  // With --watch the watcher's first snapshot is the one printed: one scan,
  // and the changes that follow are relative to what the user saw.
  const watcher = flags.watch ? new TopologyWatcher({ ...opts, intervalMs }) : undefined;
  let t: HostTopology;
  try {
    t = watcher ? await watcher.start() : scanTopology(opts);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(
      `cannot read sysfs at ${opts.sysfsRoot} (${e.code ?? e.message}): give an existing sysfs root with --sysfs-root`,
      { cause: err },
    );
  }
  const shown = filterTopology(t, filter);
  if (t.units.length === 0 && t.groups.length === 0 && t.devices.length === 0) {
    watcher?.stop();
    const why =
      t.problems.map((p) => p.message).join('; ') ||
      'no IOMMU units, groups or devices (is the IOMMU enabled? is --sysfs-root a sysfs tree?)';
    process.stderr.write(
      `iommuscope groups: nothing readable under ${opts.sysfsRoot}: ${escapeLineForTerminal(why)}\n`,
    );
    return 1;
  }
  if (filter.group !== undefined && shown.groups.length === 0) {
    watcher?.stop();
    process.stderr.write(
      `iommuscope groups: no IOMMU group ${filter.group} under ${opts.sysfsRoot} ` +
        `(known: ${t.groups.map((g) => g.id).join(', ') || 'none'})\n`,
    );
    return 1;
  }
  if (filter.device !== undefined && shown.devices.length === 0) {
    watcher?.stop();
    process.stderr.write(
      `iommuscope groups: no device ${filter.device} under ${opts.sysfsRoot} ` +
        `(known: ${t.devices.map((d) => d.address).join(', ') || 'none'})\n`,
    );
    return 1;
  }
  // JSON escapes control characters itself; the text goes through the terminal escaper.
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(shown, null, 2)}\n`
      : escapeForTerminal(
          flags['by-group'] ? formatTopology(shown) : formatDeviceLines(shown, verbosity),
        ),
  );
  if (!watcher) return 0;

  watcher.onUpdate((u) => {
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ seq: u.seq, changes: u.changes })}\n`
        : `${escapeForTerminal(changeLine(u))}\n`,
    );
  });
  watcher.onError((e) =>
    process.stderr.write(`iommuscope groups: rescan failed: ${escapeLineForTerminal(e.message)}\n`),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  watcher.stop();
  return 0;
}

export const groupsSubcommand: Subcommand = {
  run: groupsCommand,
};
