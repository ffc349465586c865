// The main window and the guards every webContents gets: no navigation away
// from app://, no new windows, no <webview>, no permissions.
import type { BrowserWindow as BrowserWindowType, Session, WebContents } from 'electron';
import { channelSwitch } from '../common/ipc-channels';
import {
  APP_URL,
  ELECTRON_CSP,
  isAllowedNavigation,
  permissionAllowed,
  secureWebPreferences,
} from './security';

export function guardWebContents(contents: WebContents, log: (line: string) => void): void {
  contents.on('will-navigate', (event) => {
    if (!isAllowedNavigation(event.url)) {
      log(`blocked navigation to ${event.url}`);
      event.preventDefault();
    }
  });
  contents.on('will-redirect', (event) => {
    if (!isAllowedNavigation(event.url)) {
      log(`blocked redirect to ${event.url}`);
      event.preventDefault();
    }
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked window.open(${url})`);
    return { action: 'deny' };
  });
}

/** CSP on every response (also set by app://, this covers anything else) and no permissions. */
export function hardenSession(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [ELECTRON_CSP],
        'X-Content-Type-Options': ['nosniff'],
      },
    });
  });
  session.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(permissionAllowed(permission)),
  );
  session.setPermissionCheckHandler((_wc, permission) => permissionAllowed(permission));
}

export function createMainWindow(
  BrowserWindow: typeof BrowserWindowType,
  log: (line: string) => void,
): BrowserWindowType {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'iommuscope',
    backgroundColor: '#111418',
    webPreferences: { ...secureWebPreferences(), additionalArguments: [channelSwitch()] },
  });
  guardWebContents(win.webContents, log);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_URL);
  return win;
}
