// The preload: exposes ONLY the contract to the page, as
//   window.iommuscope = { request(method, params), on(event, cb) }
// over one invoke channel and one event channel. It runs sandboxed (it can
// require nothing of ours), so the channel names come from the switch the
// main process adds (ipc-channels.ts channelSwitch), and nothing else of
// Electron or Node reaches the page.
import type { IpcRenderer, IpcRendererEvent } from 'electron';

/** Must equal CHANNEL_SWITCH in main/common/ipc-channels.ts (a test checks it). */
const CHANNEL_SWITCH = '--iommuscope-ipc=';

export interface Bridge {
  request(method: string, params?: unknown): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

export function readChannels(argv: readonly string[]): { request: string; event: string } {
  const arg = argv.find((a) => a.startsWith(CHANNEL_SWITCH));
  if (!arg) throw new Error('iommuscope preload: the main process passed no IPC channel names');
  const parsed = JSON.parse(arg.slice(CHANNEL_SWITCH.length)) as {
    request?: unknown;
    event?: unknown;
  };
  if (typeof parsed.request !== 'string' || typeof parsed.event !== 'string') {
    throw new Error('iommuscope preload: malformed IPC channel names');
  }
  return { request: parsed.request, event: parsed.event };
}

type IpcLike = Pick<IpcRenderer, 'invoke' | 'on'>;

export function buildBridge(ipc: IpcLike, argv: readonly string[]): Bridge {
  const channels = readChannels(argv);
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  ipc.on(channels.event, (_e: IpcRendererEvent, envelope: unknown) => {
    if (typeof envelope !== 'object' || envelope === null) return;
    const { event, payload } = envelope as { event?: unknown; payload?: unknown };
    if (typeof event !== 'string') return;
    for (const fn of listeners.get(event) ?? []) {
      try {
        fn(payload);
      } catch (err) {
        console.error(`iommuscope: listener for '${event}' failed`, err);
      }
    }
  });
  return Object.freeze({
    async request(method: string, params?: unknown): Promise<unknown> {
      if (typeof method !== 'string')
        throw new TypeError('iommuscope.request: method must be a string');
      const res = (await ipc.invoke(channels.request, {
        id: nextId++,
        method,
        params: params ?? {},
      })) as { ok?: boolean; result?: unknown; error?: { code: string; message: string } } | null;
      if (res && res.ok === true) return res.result;
      const e = res?.error ?? { code: 'EINTERNAL', message: 'no response from the core' };
      // Only the message survives the context bridge: the code leads it in brackets.
      throw new Error(`[${e.code}] ${e.message}`);
    },
    on(event: string, listener: (payload: unknown) => void): () => void {
      if (typeof listener !== 'function')
        throw new TypeError('iommuscope.on: listener must be a function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
  });
}

// In the renderer process only (a plain-Node test imports buildBridge without this).
if ((process as { type?: string }).type === 'renderer') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { contextBridge, ipcRenderer } = require('electron') as typeof import('electron');
  contextBridge.exposeInMainWorld('iommuscope', buildBridge(ipcRenderer, process.argv));
}
