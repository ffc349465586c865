// The only two Electron IPC channel names, derived in one place from the
// contract's name. The preload and the main process import these; nothing
// else spells a channel. Every request travels on REQUEST (ipcRenderer.invoke
// with a RequestEnvelope-shaped { id, method, params }), every event on EVENT
// (an EventEnvelope).
export const IPC_CHANNEL_PREFIX = 'iommuscope:contract';

export const ipcChannels = {
  request: `${IPC_CHANNEL_PREFIX}:request`,
  event: `${IPC_CHANNEL_PREFIX}:event`,
} as const;

/** The scheme the Electron shell serves the renderer from (never file://). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'iommuscope';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * The sandboxed preload cannot require our modules, so the main process hands
 * it the channel names as one command-line switch (webPreferences
 * .additionalArguments); the preload reads the switch with this prefix.
 */
export const CHANNEL_SWITCH = '--iommuscope-ipc=';

export function channelSwitch(): string {
  return `${CHANNEL_SWITCH}${JSON.stringify(ipcChannels)}`;
}
