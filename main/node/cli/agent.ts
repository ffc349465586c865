// `iommuscope agent`: the core without the renderer, for lab hosts scraped
// by a central Prometheus. Serves /metrics (Bearer token) with the fault
// session's counters and the host topology; optionally runs a fault session
// (sim, mock, iommufd, or a recording replayed) and records it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { GrammarError } from '../../common/grammar-error';
import { INJECT_USAGE, parseInject, type InjectSpec } from '../../common/inject';
import { outstandingOption } from '../session/native-specs';
import { parsePolicy, POLICY_USAGE, type PolicySpec } from '../../common/policy';
import { FaultMetrics } from '../metrics/fault-metrics';
import { TopologyMetrics } from '../metrics/topology-metrics';
import { serveMetrics } from '../metrics/metrics-route';
import { AgentSession } from '../metrics/agent-session';
import { TopologyWatcher } from '../topology/watcher';
import { Recorder } from '../recording/recorder';
import { packageVersion } from '../dashboard/version';
import { makeToken } from '../server/token';
import { flagHelp, numberFlag, parseFlags, UsageError, type FlagSpec } from './args';
import type { Subcommand } from './subcommand';

export const AGENT_DEFAULT_PORT = 9469;

const flagSpec = {
  port: {
    type: 'string',
    value: 'N',
    help: `TCP port (default ${AGENT_DEFAULT_PORT}; 0 = any free port)`,
  },
  host: {
    type: 'string',
    value: 'ADDR',
    help: 'address to listen on (default 127.0.0.1; 0.0.0.0 for a central Prometheus)',
  },
  'token-file': {
    type: 'string',
    value: 'FILE',
    help: 'the scrape token: read from FILE, or created there (mode 0600) when missing; default: a new token printed on stdout',
  },
  source: {
    type: 'string',
    value: 'sim|mock|iommufd|replay',
    help: 'also run a fault session (default: topology only)',
  },
  device: {
    type: 'string',
    value: '/dev/vfio/devices/vfioN',
    help: 'iommufd: the VFIO device cdev',
  },
  pasid: { type: 'string', value: 'N', help: 'iommufd: attach to this PASID' },
  replay: { type: 'string', value: 'FILE', help: 'replay: the recording to play' },
  speed: { type: 'string', value: 'X', help: 'replay: speed (default 1)' },
  inject: { type: 'string', value: 'SPEC', help: `sim/mock: inject ${INJECT_USAGE}` },
  policy: {
    type: 'string',
    value: 'POLICY',
    help: `automatic answers: ${POLICY_USAGE} (default invalid)`,
  },
  'drain-code': {
    type: 'string',
    value: 'invalid|success',
    help: 'answer for groups pending at exit (default invalid)',
  },
  record: {
    type: 'string',
    value: 'FILE',
    help: 'record the session to FILE (a new .pcapng.gz capture)',
  },
  'max-series': {
    type: 'string',
    value: 'N',
    help: 'device/PASID pairs with their own series (default 256; more go to "other")',
  },
  'sysfs-root': {
    type: 'string',
    value: 'PATH',
    help: 'read the host topology here (default /sys)',
  },
  help: { type: 'boolean', help: 'this help' },
} satisfies FlagSpec;

export interface AgentOptions {
  host: string;
  port: number;
  tokenFile?: string;
  session?: {
    source: 'sim' | 'mock' | 'iommufd' | 'replay';
    device?: string;
    pasid?: number;
    replay?: { file: string; speed: number };
    inject?: InjectSpec;
    policy: PolicySpec;
  };
  drainCode: 0 | 1;
  record?: string;
  maxSeries: number;
  sysfsRoot?: string;
}

export function agentHelp(): string {
  return [
    'usage: iommuscope agent [--port N] [--host ADDR] [--token-file FILE] [--source ... session options]',
    '',
    'Serves GET /metrics in the Prometheus text format (Authorization: Bearer TOKEN) with the host',
    "topology and, with --source, a fault session's counters. No renderer, no browser.",
    'The first stdout line is a JSON object with the URL (and the token when it was generated).',
    '',
    flagHelp(flagSpec),
    '',
    'Prometheus scrape config:',
    '  - job_name: iommuscope',
    '    authorization: { credentials_file: /etc/prometheus/iommuscope.token }',
    `    static_configs: [{ targets: ['labhost:${AGENT_DEFAULT_PORT}'] }]`,
  ].join('\n');
}

export function parseAgentArgs(argv: string[]): AgentOptions | 'help' {
  const { flags, positionals } = parseFlags(argv, flagSpec);
  if (flags.help) return 'help';
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const drain = flags['drain-code'] ?? 'invalid';
  if (drain !== 'invalid' && drain !== 'success')
    throw new UsageError(`--drain-code '${drain}' must be invalid or success`);
  const opts: AgentOptions = {
    host: flags.host ?? '127.0.0.1',
    port: flags.port
      ? numberFlag('port', flags.port, { integer: true, max: 65535 })
      : AGENT_DEFAULT_PORT,
    drainCode: drain === 'success' ? 0 : 1,
    maxSeries: flags['max-series']
      ? numberFlag('max-series', flags['max-series'], { integer: true, min: 1, max: 100_000 })
      : 256,
  };
  if (flags['token-file']) opts.tokenFile = flags['token-file'];
  if (flags['sysfs-root']) opts.sysfsRoot = flags['sysfs-root'];
  if (flags.record) opts.record = flags.record;
  const source = flags.source;
  const sessionOnly = ['device', 'pasid', 'replay', 'speed', 'inject', 'policy', 'record'] as const;
  if (!source) {
    const given = sessionOnly.find((k) => flags[k] !== undefined);
    if (given) throw new UsageError(`--${given} needs --source`);
    return opts;
  }
  if (source !== 'sim' && source !== 'mock' && source !== 'iommufd' && source !== 'replay')
    throw new UsageError(`--source '${source}' must be sim, mock, iommufd or replay`);
  if (source === 'iommufd' && !flags.device)
    throw new UsageError('--source iommufd needs --device /dev/vfio/devices/vfioN');
  if (source === 'replay' && !flags.replay)
    throw new UsageError('--source replay needs --replay FILE');
  if (source !== 'replay' && (flags.replay || flags.speed))
    throw new UsageError('--replay and --speed are for --source replay');
  if (source !== 'iommufd' && (flags.device || flags.pasid))
    throw new UsageError('--device and --pasid are for --source iommufd');
  if (flags.inject && source !== 'sim' && source !== 'mock')
    throw new UsageError('--inject works with --source sim or mock');
  try {
    opts.session = { source, policy: parsePolicy(flags.policy ?? 'invalid') };
    if (flags.device) opts.session.device = flags.device;
    if (flags.pasid)
      opts.session.pasid = numberFlag('pasid', flags.pasid, { integer: true, max: 0xfffff });
    if (flags.replay)
      opts.session.replay = {
        file: flags.replay,
        speed: flags.speed ? numberFlag('speed', flags.speed, { min: 0.001 }) : 1,
      };
    if (flags.inject) opts.session.inject = parseInject(flags.inject);
    if (opts.session.inject?.outstanding !== undefined && source !== 'sim')
      throw new UsageError('--inject outstanding=N works with --source sim');
  } catch (err) {
    if (err instanceof GrammarError) throw new UsageError(err.message);
    throw err;
  }
  return opts;
}

/** The token from --token-file (created when missing), or a fresh one. */
function loadToken(file: string | undefined): { token: string; show: boolean } {
  if (!file) return { token: makeToken(), show: true };
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (!token)
      throw new Error(
        `the token file ${file} is empty: put a token in it or delete it to have one made`,
      );
    return { token, show: false };
  }
  const token = makeToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, show: false };
}

function say(line: string): void {
  process.stderr.write(`iommuscope agent: ${line}\n`);
}

export async function runAgent(opts: AgentOptions): Promise<number> {
  const { token, show } = loadToken(opts.tokenFile);
  const registry = new Registry();
  const faults = new FaultMetrics({ registry, maxSeries: opts.maxSeries });
  const topo = new TopologyMetrics(registry);
  const watcher = new TopologyWatcher(opts.sysfsRoot ? { sysfsRoot: opts.sysfsRoot } : {});
  watcher.onUpdate((u) => topo.update(u.topology));
  watcher.start().then(
    (t) => topo.update(t),
    (err: unknown) =>
      say(`host topology scan failed: ${err instanceof Error ? err.message : String(err)}`),
  );

  let session: AgentSession | undefined;
  let recorder: Recorder | undefined;
  if (opts.session) {
    const s = opts.session;
    session = AgentSession.open(
      {
        source: s.source,
        ...(s.device ? { device: s.device } : {}),
        ...(s.pasid !== undefined ? { pasid: s.pasid } : {}),
        ...(s.replay ? { replay: s.replay } : {}),
        ...outstandingOption(s.inject?.outstanding),
        policy: s.policy,
      },
      (err) => say(`metrics: ${err instanceof Error ? err.message : String(err)}`),
    );
    session.subscribe((b) => faults.observe(b));
    if (opts.record) {
      recorder = Recorder.start({
        path: opts.record,
        toolVersion: packageVersion(),
        subscribe: session.subscribe,
        onError: (e) => say(e.message),
      });
      recorder.session({
        queue: session.queueId,
        source: s.source,
        ...(s.device ? { device: s.device } : {}),
        ...(s.pasid !== undefined ? { pasid: s.pasid } : {}),
        policy: s.policy,
      });
    }
    session.start();
    if (s.inject) session.inject(s.inject);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (serveMetrics(req, res, url.pathname, token, registry)) return;
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not Found: the agent serves GET /metrics only\n');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    say(
      `cannot listen on ${opts.host}:${opts.port} (${e.code ?? e.message})${e.code === 'EADDRINUSE' ? ': the port is taken; pick another with --port' : ''}`,
    );
    watcher.stop();
    recorder?.stop('agent failed to start');
    await session?.close(opts.drainCode);
    return 1;
  }
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  process.stdout.write(
    `${JSON.stringify({ type: 'listening', url: `http://${host}:${port}/metrics`, ...(show ? { token } : { tokenFile: opts.tokenFile }) })}\n`,
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say(`${signal}: ${session ? 'draining and closing the session' : 'closing'}`);
  const totals = session ? await session.close(opts.drainCode) : undefined;
  if (session) faults.queueClosed(session.queueId);
  recorder?.stop(`agent ${signal}`);
  watcher.stop();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  process.stdout.write(
    `${JSON.stringify({ type: 'summary', signal, ...(totals ?? { session: false }) })}\n`,
  );
  return totals && totals.pending !== 0 && opts.session?.source !== 'replay' ? 1 : 0;
}

export const agentCommand: Subcommand = {
  async run(argv) {
    const opts = parseAgentArgs(argv);
    if (opts === 'help') {
      process.stdout.write(`${agentHelp()}\n`);
      return 0;
    }
    return runAgent(opts);
  },
};
