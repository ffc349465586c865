// Picks the transport: the Electron preload bridge when present, otherwise a
// WebSocket to the `iommuscope serve` that served this page.
import type { CoreApi } from '../../../main/common/contract';
import { ElectronCore } from './electron';
import { WebSocketCore } from './websocket';

export { connection } from './connection';
export { RequestError } from '../../../main/common/request-error';

let core: CoreApi | null = null;
let webSocketCore: WebSocketCore | null = null;
const openHandlers: (() => void)[] = [];

/** Runs after every (re)connection (stores reload their state here). */
export function onConnected(handler: () => void): void {
  openHandlers.push(handler);
}

export function startCore(): CoreApi {
  if (core) return core;
  if (window.iommuscope) {
    core = new ElectronCore(window.iommuscope);
    queueMicrotask(() => openHandlers.forEach((h) => h()));
    return core;
  }
  const token = new URLSearchParams(location.search).get('token');
  const refusal = token
    ? undefined
    : 'This page has no access token. Open the exact URL that `iommuscope serve` printed (it ends in ?token=…).';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = `token=${encodeURIComponent(token ?? '')}`;
  webSocketCore = new WebSocketCore(
    `${scheme}://${location.host}/ws?${query}`,
    `${location.protocol}//${location.host}/ws?${query}`,
    refusal,
  );
  webSocketCore.onOpen = () => openHandlers.forEach((h) => h());
  core = webSocketCore;
  // Tests drop the socket on purpose to check reconnection and resync.
  (window as unknown as { __iommuscopeSocket?: () => WebSocket | null }).__iommuscopeSocket = () =>
    webSocketCore?.currentSocket ?? null;
  return core;
}

export function useCore(): CoreApi {
  if (!core) throw new Error('startCore() has not run');
  return core;
}
