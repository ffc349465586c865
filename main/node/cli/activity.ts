// `iommuscope activity`: host-wide live IOMMU activity (DMA faults decoded
// from the kernel log, tracepoint rates, IOMMU interrupts) through the
// capture helper. NDJSON with --json, a top-like screen otherwise.
import type { ActivityEvent, SourceState, TimedFault } from '../../common/activity/stream';
import type { DebugfsFile, DebugfsUnit, DevicePasids } from '../../common/debugfs/events';
import { ActivityCore } from '../activity/activity-core';
import type { RatesEvent } from '../activity/rates';
import { TopologyResolver } from '../activity/topology-resolver';
import { flagHelp, numberFlag, parseFlags, UsageError } from './args';
import { debugfsBlock } from './activity-debugfs-format';
import { faultJson, filterRates, formatTop, matchesFilter, type TopState } from './activity-format';
import type { Subcommand } from './subcommand';

const FLAGS = {
  json: {
    type: 'boolean',
    help: 'NDJSON: one line per fault/event and one "rates" line per interval',
  },
  device: { type: 'string', value: 'BDF', help: 'only this device (0000:00:05.0 or 00:05.0)' },
  unit: { type: 'string', value: 'NAME', help: 'only this IOMMU unit (e.g. dmar0)' },
  history: { type: 'boolean', help: 'also decode what the kernel log already holds' },
  interval: { type: 'string', value: 'MS', help: 'rates interval (default 1000)' },
  duration: { type: 'string', value: 'S', help: 'stop after S seconds (default: until Ctrl-C)' },
  'no-helper': { type: 'boolean', help: 'do not run iommuscope-capture (interrupts only)' },
  'debugfs-dir': {
    type: 'string',
    value: 'DIR',
    help: 'read Intel debugfs from DIR (default /sys/kernel/debug/iommu/intel)',
  },
  'debugfs-interval': {
    type: 'string',
    value: 'MS',
    help: 'how often the helper rereads debugfs (default 5000)',
  },
  help: { type: 'boolean', help: 'this help' },
} as const;

function helpText(): string {
  return [
    'usage: iommuscope activity [options]',
    '',
    'Live IOMMU activity of the whole host: DMA faults from the kernel log (Intel DMAR,',
    'AMD-Vi, Arm SMMUv3) decoded with their table walk, map/unmap, invalidation, IOTLB',
    'flush and page-request rates from the IOMMU tracepoints, and IOMMU interrupt rates.',
    'The kernel log and tracepoints are read by iommuscope-capture, which needs',
    'cap_syslog (when kernel.dmesg_restrict=1), cap_perfmon and cap_dac_read_search:',
    '  sudo setcap cap_syslog,cap_perfmon,cap_dac_read_search+ep <path>/iommuscope-capture',
    'Without them it says which source is missing and shows what it can read.',
    'Intel debugfs (registers, queues, live PASIDs per device) is reread every',
    '--debugfs-interval; the page tables of --device and of each faulting device too.',
    '',
    flagHelp(FLAGS),
  ].join('\n');
}

function normalizeDevice(a: string): string {
  if (/^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(a)) return `0000:${a.toLowerCase()}`;
  if (/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(a)) return a.toLowerCase();
  throw new UsageError(`--device '${a}' is not a PCI address (e.g. 0000:00:05.0)`);
}

export async function activityCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const filter = {
    device: flags.device === undefined ? undefined : normalizeDevice(flags.device),
    unit: flags.unit,
  };
  const intervalMs =
    flags.interval === undefined
      ? 1000
      : numberFlag('interval', flags.interval, { integer: true, min: 100, max: 60000 });
  const durationS =
    flags.duration === undefined ? null : numberFlag('duration', flags.duration, { min: 0.1 });

  const topo = new TopologyResolver();
  if (filter.unit !== undefined && topo.units.length && !topo.units.includes(filter.unit)) {
    process.stderr.write(
      `iommuscope activity: no IOMMU unit '${filter.unit}' (known: ${topo.units.join(', ')})\n`,
    );
    return 1;
  }
  const debugfsMs =
    flags['debugfs-interval'] === undefined
      ? null
      : numberFlag('debugfs-interval', flags['debugfs-interval'], {
          integer: true,
          min: 100,
          max: 600000,
        });
  const core = new ActivityCore({
    helper: flags['no-helper'] ? null : undefined,
    helperArgs: [
      ...(flags.history ? ['--kmsg-history'] : []),
      ...(flags['debugfs-dir'] !== undefined ? ['--debugfs-dir', flags['debugfs-dir']] : []),
      ...(debugfsMs !== null ? ['--debugfs-interval-ms', String(debugfsMs)] : []),
    ],
    watchDevices: filter.device !== undefined ? [filter.device] : [],
    intervalMs,
    resolve: topo.resolve,
    units: topo.units,
    onTopologyChange: () => topo.changed(),
  });
  core.unitOfDevice = topo.unitOf;

  const json = !!flags.json;
  const tty = !json && process.stdout.isTTY === true;
  const top: TopState = {
    sources: [],
    rates: null,
    faults: [],
    suppressed: 0,
    unparsed: 0,
    topology: [],
  };
  // Newest Intel debugfs state, by unit, device and file.
  const debugfsUnits = new Map<string, DebugfsUnit>();
  const devicePasids = new Map<string, DevicePasids>();
  const debugfsFiles = new Map<string, DebugfsFile>();
  const write = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  core.on((e: ActivityEvent | RatesEvent) => {
    if (e.type === 'rates') {
      const r = filterRates(e, filter);
      if (json) write(r);
      else {
        top.rates = r;
        top.extra = debugfsBlock(
          [...debugfsUnits.values()],
          [...devicePasids.values()],
          [...debugfsFiles.values()],
        );
        process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : ''}${formatTop(top)}${tty ? '' : '\n'}`);
      }
      return;
    }
    if (!matchesFilter(e, filter)) return;
    if (json) {
      write(e.type === 'dma-fault' ? faultJson(e) : e);
      return;
    }
    if (e.type === 'source') {
      top.sources = [...top.sources.filter((s) => s.source !== e.source), e];
      if (!e.ok)
        process.stderr.write(
          `iommuscope activity: ${e.source} unavailable: ${e.detail}${e.fix ? `; grant: ${e.fix}` : ''}\n`,
        );
    } else if (e.type === 'dma-fault') {
      top.faults.push(e as TimedFault);
      if (top.faults.length > 100) top.faults.shift();
    } else if (e.type === 'suppressed') top.suppressed += e.count;
    else if (e.type === 'unparsed') top.unparsed++;
    else if (e.type === 'debugfs-unit') debugfsUnits.set(e.unit, e);
    else if (e.type === 'device-pasids') devicePasids.set(e.device, e);
    else if (e.type === 'debugfs-file') debugfsFiles.set(e.file, e);
    else if (e.type === 'topology')
      top.topology.push(`${e.change} ${e.device}${e.group !== null ? ` group ${e.group}` : ''}`);
  });

  await core.start();
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (durationS !== null) setTimeout(stop, durationS * 1000);
  });
  await core.stop();
  topo.stop();
  const missing: SourceState[] = [...core.sources.values()].filter((s) => !s.ok);
  if (!json && missing.length) {
    process.stderr.write(
      `iommuscope activity: sources missing: ${missing.map((s) => s.source).join(', ')}\n`,
    );
  }
  return 0;
}

export const activitySubcommand: Subcommand = {
  run: activityCommand,
};
