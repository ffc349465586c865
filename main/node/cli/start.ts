// `iommuscope start` (`npm start`): the desktop app when the Electron binary
// is installed; otherwise it says why and serves the same dashboard in a
// browser (`serve`), printing the URL.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Subcommand } from './subcommand';
import { dashboardHelp, parseDashboardArgs } from './dashboard-args';
import { runServe } from './serve';
import { findElectronBinary } from '../electron-binary';
import { ExitStatus, STOP_SIGNALS } from './exit-paths';

const SUMMARY =
  'Starts the desktop app (Electron); without an Electron binary, the browser dashboard (serve).';

/** dist/main/electron-main/main.js, from dist/main/node/cli. */
export function electronMainPath(): string {
  return path.resolve(__dirname, '..', '..', 'electron-main', 'main.js');
}

export function rootRefusal(): string {
  return (
    'refusing to run the desktop app as root: a browser engine running as root is a needless risk. ' +
    'Run it as your user: install the udev rule (resources/udev/70-iommuscope.rules), ' +
    "add yourself to the 'iommuscope' group (usermod -aG iommuscope $USER) and log in again. " +
    '(--allow-root-for-testing overrides this in test VMs; `iommuscope serve` may run as root.)'
  );
}

export const startCommand: Subcommand = {
  run: async (argv) => {
    const opts = parseDashboardArgs(argv);
    if (opts === 'help') {
      process.stdout.write(`${dashboardHelp('start', SUMMARY)}\n`);
      return 0;
    }
    const electron = findElectronBinary();
    if (!electron.ok) {
      process.stderr.write(
        `iommuscope start: no desktop app: ${electron.why}.\n` +
          'iommuscope start: serving the dashboard to a browser instead (open the URL below).\n',
      );
      return runServe(opts);
    }
    if (process.getuid?.() === 0 && !opts.allowRoot) {
      process.stderr.write(`iommuscope start: ${rootRefusal()}\n`);
      return 1;
    }
    const args = [electronMainPath(), ...argv];
    if (process.getuid?.() === 0) args.splice(1, 0, '--no-sandbox');
    const child = spawn(electron.path, args, { stdio: 'inherit' });
    // The app drains and summarises on each of these itself (electron-main/signal-quit.ts).
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    for (const sig of STOP_SIGNALS) process.on(sig, forward);
    return new Promise<number>((resolve) => {
      child.on('error', (err) => {
        process.stderr.write(`iommuscope start: cannot run ${electron.path}: ${err.message}\n`);
        resolve(1);
      });
      child.on('exit', (code, sig) => {
        for (const s of STOP_SIGNALS) process.off(s, forward);
        if (sig) process.stderr.write(`iommuscope start: the app was killed by ${sig}\n`);
        resolve(code ?? (sig ? ExitStatus.Unclean : ExitStatus.Clean));
      });
    });
  },
};
