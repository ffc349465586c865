// app:// serves dist/renderer (instead of file://, which would give the page
// access to every local file). Pure request → Response logic; protocol.ts
// registers it with Electron.
import { readFile } from 'node:fs/promises';
import { APP_HOST } from '../common/ipc-channels';
import { resolveStatic } from '../node/server/static-files';
import { ELECTRON_CSP } from './security';

const baseHeaders = {
  'Content-Security-Policy': ELECTRON_CSP,
  'X-Content-Type-Options': 'nosniff',
};

export async function appProtocolResponse(
  rendererDir: string,
  requestUrl: string,
): Promise<Response> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return new Response(null, { status: 400, headers: baseHeaders });
  }
  if (url.host !== APP_HOST) return new Response(null, { status: 404, headers: baseHeaders });
  const found = resolveStatic(rendererDir, url.pathname);
  if (!found.ok) return new Response(null, { status: found.status, headers: baseHeaders });
  const body = await readFile(found.file);
  return new Response(body, {
    status: 200,
    headers: { ...baseHeaders, 'Content-Type': found.type },
  });
}
