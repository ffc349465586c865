// app:// — registered privileged (standard + secure) before ready, then
// served from dist/renderer by app-protocol.ts.
import type { Protocol } from 'electron';
import { APP_SCHEME } from '../common/ipc-channels';
import { appProtocolResponse } from './app-protocol';
import { APP_SCHEME_PRIVILEGES } from './security';

export function registerAppScheme(protocol: Protocol): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME_PRIVILEGES.scheme, privileges: { ...APP_SCHEME_PRIVILEGES.privileges } },
  ]);
}

export function serveAppScheme(protocol: Protocol, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => appProtocolResponse(rendererDir, request.url));
}
