// Resolve a URL path to a file of the built renderer (dist/renderer), for the
// HTTP server and Electron's app:// protocol alike. Refuses traversal ('..',
// encoded or not), NUL bytes, backslashes and dot-files; never lists a
// folder ('/' is index.html, any other folder is 404).
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

export const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export type StaticResult =
  { ok: true; file: string; type: string; size: number } | { ok: false; status: 400 | 403 | 404 };

/** The built renderer folder: dist/renderer next to dist/main. */
export function defaultRendererDir(): string {
  // __dirname is dist/main/node/server (or app.asar/dist/main/node/server).
  return path.resolve(__dirname, '..', '..', '..', 'renderer');
}

export function resolveStatic(root: string, urlPath: string): StaticResult {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { ok: false, status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 400 };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return { ok: false, status: 403 };
  const rel = segments.length === 0 ? 'index.html' : segments.join('/');
  const base = path.resolve(root);
  const file = path.resolve(base, rel);
  if (file !== base && !file.startsWith(base + path.sep)) return { ok: false, status: 403 };
  let st;
  try {
    st = statSync(file);
    // A symbolic link inside the folder must not lead out of it.
    const real = realpathSync(file);
    const realBase = realpathSync(base);
    if (!real.startsWith(realBase + path.sep)) return { ok: false, status: 403 };
  } catch {
    return { ok: false, status: 404 };
  }
  if (!st.isFile()) return { ok: false, status: 404 };
  const type = MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  return { ok: true, file, type, size: st.size };
}
