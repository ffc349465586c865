// Electron main process: thin. It loads the core (CoreService, which owns the
// fault session and the addon), registers app://, opens one hardened window
// and bridges IPC. On quit with groups pending it asks how to answer them and
// drains BEFORE the window closes; nothing is ever left pending.
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import { coreFromOptions, openSessionFromOptions } from '../node/dashboard/core-from-options';
import { parseDashboardArgs, type DashboardOptions } from '../node/cli/dashboard-args';
import { rootRefusal } from '../node/cli/start';
import { defaultRendererDir } from '../node/server/static-files';
import { exitPaths, installExitPaths } from '../node/cli/exit-paths';
import { appMenuTemplate, openRecordingFromMenu } from './app-menu';
import { registerIpc } from './ipc';
import { registerAppScheme, serveAppScheme } from './protocol';
import { appArgs } from './quit';
import { quitFromUi, quitOnSignal } from './quit-flow';
import { createMainWindow, guardWebContents, hardenSession } from './window';

const log = (line: string): void => void process.stderr.write(`iommuscope: ${line}\n`);

function fatal(message: string): never {
  log(message);
  app.exit(1);
  process.exit(1);
}

function options(): DashboardOptions {
  try {
    const opts = parseDashboardArgs(appArgs(process.argv, __filename, app.isPackaged));
    if (opts === 'help') fatal('usage: see `iommuscope start --help`');
    return opts;
  } catch (err) {
    return fatal(err instanceof Error ? err.message : String(err));
  }
}

// Crashes drain and summarise like the CLI's (exit 70); signals are wired below.
installExitPaths('iommuscope');
const opts = options();
if (process.getuid?.() === 0 && !opts.allowRoot) fatal(rootRefusal());
if (!app.requestSingleInstanceLock()) {
  // Another instance is running; it focuses its window (second-instance below).
  app.exit(0);
  process.exit(0);
}

registerAppScheme(protocol);

let win: BrowserWindow | undefined;
let shutdown: Promise<void> | undefined;
let done = false;

const core = coreFromOptions(opts, 'electron', log);

app.on('second-instance', () => {
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.focus();
});

app.on('web-contents-created', (_e, contents) => guardWebContents(contents, log));

const quitDeps = {
  core,
  ask: async (prompt: Electron.MessageBoxOptions): Promise<number> =>
    (win && !win.isDestroyed()
      ? await dialog.showMessageBox(win, prompt)
      : await dialog.showMessageBox(prompt)
    ).response,
  summary: (obj: object) => run.summary(obj),
  exit: (status: number) => {
    done = true;
    run.end();
    app.exit(status);
  },
  log,
};

/** Ask (when groups are pending), drain, close the session; then the app exits. */
function requestQuit(event: { preventDefault(): void }): void {
  if (done) return;
  event.preventDefault();
  shutdown ??= quitFromUi(quitDeps)
    .then(
      () => undefined,
      (err: unknown) => log(`quit: ${String(err)}`),
    )
    .finally(() => (shutdown = undefined));
}

app.on('before-quit', requestQuit);

// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2: drain with the drain-code setting, no dialog.
const run = exitPaths().begin({
  drainCode: () => core.drainCode,
  onStop: (reason) => void quitOnSignal(quitDeps, reason),
});

void app.whenReady().then(() => {
  hardenSession(session.defaultSession);
  serveAppScheme(protocol, defaultRendererDir());
  win = createMainWindow(BrowserWindow, log);
  win.on('close', requestQuit);
  win.on('closed', () => (win = undefined));
  registerIpc(ipcMain, core, () => win?.webContents, log);
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate({
        openRecording: () =>
          void openRecordingFromMenu({
            showOpenDialog: (w, o) =>
              w && !w.isDestroyed() ? dialog.showOpenDialog(w, o) : dialog.showOpenDialog(o),
            window: () => win,
            core,
            showError: (title, message) => dialog.showErrorBox(title, message),
          }),
        quit: () => app.quit(),
      }),
    ),
  );
  core.startHost().catch((err: unknown) => log(`host topology: ${String(err)}`));
  openSessionFromOptions(core, opts, log);
});

app.on('window-all-closed', () => {
  if (done) app.quit();
});
