// `iommuscope serve`: the dashboard in a browser. Prints the URL (with the
// access token) as the first line of stdout, serves until SIGINT/SIGTERM,
// then drains what is pending (drain-code setting), closes the session and
// prints one {"type":"summary"} line.
import type { Subcommand } from './subcommand';
import {
  dashboardHelp,
  isLoopback,
  parseDashboardArgs,
  type DashboardOptions,
} from './dashboard-args';
import { coreFromOptions, openSessionFromOptions } from '../dashboard/core-from-options';
import { startDashboardServer } from '../server/dashboard-server';
import { defaultRendererDir } from '../server/static-files';
import { makeToken } from '../server/token';
import { exitPaths, ExitStatus } from './exit-paths';
import { escapeLineForTerminal } from '../../common/terminal-text';
import { closeDashboard } from './dashboard-exit';

const SUMMARY =
  'Serves the dashboard over HTTP + WebSocket (token-protected, loopback by default).';

export const serveCommand: Subcommand = {
  run: async (argv) => {
    const opts = parseDashboardArgs(argv);
    if (opts === 'help') {
      process.stdout.write(`${dashboardHelp('serve', SUMMARY)}\n`);
      return 0;
    }
    return runServe(opts);
  },
};

function say(line: string): void {
  process.stderr.write(`iommuscope serve: ${escapeLineForTerminal(line)}\n`);
}

export async function runServe(opts: DashboardOptions): Promise<number> {
  if (!isLoopback(opts.host)) {
    say(
      `WARNING: listening on ${opts.host}, not loopback: anyone who can reach this address ` +
        'and learns the token can answer page requests. Use --host 127.0.0.1 unless you need this.',
    );
  }
  const core = coreFromOptions(opts, 'browser', say);
  // Any stop signal ends the run; a crash drains it synchronously (exit-paths.ts).
  // A closed stdout does not: it only carried the URL, already delivered.
  let stop: (reason: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const run = exitPaths().begin({
    drainCode: () => core.drainCode,
    onStop: (reason) => stop(reason),
    crashSummary: (c) => ({ type: 'summary', ...c, clean: false }),
  });
  core.startHost().catch((err: unknown) => {
    say(`host topology scan failed: ${err instanceof Error ? err.message : String(err)}`);
  });
  let server;
  try {
    server = await startDashboardServer({
      core,
      host: opts.host,
      port: opts.port,
      token: makeToken(),
      rendererDir: defaultRendererDir(),
      metrics: core.metrics.registry,
      ...(opts.verbose ? { log: say } : {}),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    say(
      `cannot listen on ${opts.host}:${opts.port} (${e.code ?? e.message}): ` +
        (e.code === 'EADDRINUSE'
          ? 'the port is taken; pick another with --port (0 = any free port)'
          : e.message),
    );
    await core.close();
    run.end();
    return ExitStatus.Unclean;
  }
  // The first stdout line is the URL: scripts and tests read it.
  process.stdout.write(`${server.url}\n`);

  openSessionFromOptions(core, opts, say);

  const reason = await stopped;
  const { summary, status } = await closeDashboard(core, reason, {
    log: say,
    alsoClose: () => server.close(),
  });
  run.summary(summary);
  run.end();
  return status;
}
