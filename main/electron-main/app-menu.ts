// The application menu: File > Open Recording… (a native dialog in the main
// process picks the file, so a path is fine here: the renderer can never name
// one), then the usual Edit / View / Window roles. Plain data and functions:
// the template and the open handler are tested in Node without Electron.
import type {
  BrowserWindow,
  MenuItemConstructorOptions,
  OpenDialogOptions,
  OpenDialogReturnValue,
} from 'electron';
import type { SessionState } from '../common/contract';

export interface MenuActions {
  openRecording(): void;
  quit(): void;
}

export const OPEN_RECORDING_LABEL = 'Open Recording…';

export function appMenuTemplate(actions: MenuActions): MenuItemConstructorOptions[] {
  return [
    {
      label: 'File',
      submenu: [
        {
          label: OPEN_RECORDING_LABEL,
          accelerator: 'CmdOrCtrl+O',
          click: () => actions.openRecording(),
        },
        { type: 'separator' },
        { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => actions.quit() },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { label: 'Window', submenu: [{ role: 'minimize' }, { role: 'close' }] },
  ];
}

/** The dialog's options: recordings only (a capture is NAME.pcapng.gz). */
export function openRecordingDialogOptions(defaultPath: string): OpenDialogOptions {
  return {
    title: 'Open a recording',
    defaultPath,
    properties: ['openFile'],
    filters: [
      { name: 'iommuscope recordings', extensions: ['pcapng.gz', 'gz'] },
      { name: 'All files', extensions: ['*'] },
    ],
  };
}

export interface OpenRecordingDeps {
  showOpenDialog(
    win: BrowserWindow | undefined,
    options: OpenDialogOptions,
  ): Promise<OpenDialogReturnValue>;
  window(): BrowserWindow | undefined;
  core: {
    readonly recordingDir: string;
    openReplayFile(file: string): Promise<SessionState>;
  };
  /** Shown to the user when the file does not open (the core's message names cause and fix). */
  showError(title: string, message: string): void;
}

/** File > Open Recording…: pick a file, open it as the replay session. Resolves with the state, or null. */
export async function openRecordingFromMenu(deps: OpenRecordingDeps): Promise<SessionState | null> {
  const picked = await deps.showOpenDialog(
    deps.window(),
    openRecordingDialogOptions(deps.core.recordingDir),
  );
  const file = picked.filePaths[0];
  if (picked.canceled || !file) return null;
  try {
    return await deps.core.openReplayFile(file);
  } catch (err) {
    deps.showError('The recording did not open', err instanceof Error ? err.message : String(err));
    return null;
  }
}
