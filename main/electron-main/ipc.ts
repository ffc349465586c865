// Electron IPC ↔ CoreService: one invoke channel for requests, one channel
// for events. Every message is checked for its sender (our main window's top
// frame on app://) and then goes through the same dispatch as the WebSocket.
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { ipcChannels } from '../common/ipc-channels';
import type { ResponseEnvelope } from '../common/contract';
import type { CoreService } from '../node/dashboard/core-service';
import { dispatchValue, NO_ID } from '../node/dashboard/dispatch';
import { isTrustedSender } from './security';

export function senderInfo(event: IpcMainInvokeEvent) {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frameUrl: frame?.url,
    isMainFrame: frame !== null && frame !== undefined && frame.parent === null,
  };
}

export function registerIpc(
  ipcMain: IpcMain,
  core: CoreService,
  mainContents: () => WebContents | undefined,
  log: (line: string) => void,
): () => void {
  ipcMain.handle(
    ipcChannels.request,
    async (event, envelope: unknown): Promise<ResponseEnvelope> => {
      const info = senderInfo(event);
      if (!isTrustedSender(info, mainContents()?.id)) {
        log(
          `refused IPC from ${info.frameUrl ?? 'a detached frame'} (webContents ${info.webContentsId})`,
        );
        return { id: NO_ID, ok: false, error: { code: 'EPERM', message: 'untrusted sender' } };
      }
      return dispatchValue(core.handlers, envelope, {
        client: `electron:${event.sender.id}`,
        emit: (name, payload) => {
          if (!event.sender.isDestroyed())
            event.sender.send(ipcChannels.event, { event: name, payload });
        },
      });
    },
  );
  const unsubscribe = core.subscribe((env) => {
    const wc = mainContents();
    if (wc && !wc.isDestroyed()) wc.send(ipcChannels.event, env);
  });
  return () => {
    ipcMain.removeHandler(ipcChannels.request);
    unsubscribe();
  };
}
