// The Electron shell's security settings as plain data and pure checks, so a
// plain-Node test can assert them without an Electron binary. Nothing here
// imports electron at run time.
import path from 'node:path';
import type { WebPreferences } from 'electron';
import { APP_HOST, APP_ORIGIN, APP_SCHEME } from '../common/ipc-channels';
import { contentSecurityPolicy } from '../node/server/security-headers';

/** The browser-mode policy without a WebSocket origin (IPC needs none). */
export const ELECTRON_CSP = contentSecurityPolicy();

export const APP_URL = `${APP_ORIGIN}/index.html`;

export function preloadPath(): string {
  return path.join(__dirname, 'preload.js');
}

/** The main window's webPreferences: the whole Electron security checklist. */
export function secureWebPreferences(preload: string = preloadPath()): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: true,
  };
}

/** The privileged registration of app:// (before app ready). */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
} as const;

/** Navigation is allowed only within our own app:// origin (e.g. a reload). */
export function isAllowedNavigation(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

export interface SenderInfo {
  /** event.sender.id */
  webContentsId: number;
  /** event.senderFrame?.url; undefined when the frame is gone. */
  frameUrl: string | undefined;
  /** True when senderFrame is the top frame (senderFrame.parent === null). */
  isMainFrame: boolean;
}

/** An IPC message is served only from our main window's top frame on app://. */
export function isTrustedSender(s: SenderInfo, mainWebContentsId: number | undefined): boolean {
  if (mainWebContentsId === undefined || s.webContentsId !== mainWebContentsId) return false;
  if (!s.isMainFrame || s.frameUrl === undefined) return false;
  return isAllowedNavigation(s.frameUrl);
}

/** Permission requests (camera, notifications, HID ...): the dashboard needs none. */
export function permissionAllowed(_permission: string): boolean {
  return false;
}
