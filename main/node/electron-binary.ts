// Where the Electron binary is, without require('electron'): that module
// tries to DOWNLOAD the binary when it is missing (a network fetch on every
// `start`). We read the same path.txt it reads, honour the same
// ELECTRON_OVERRIDE_DIST_PATH, and say why when there is no binary.
import { existsSync } from 'node:fs';
import { KiB, readBoundedText } from './bounded-read';
import path from 'node:path';

export type ElectronBinary = { ok: true; path: string } | { ok: false; why: string };

export function findElectronBinary(): ElectronBinary {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return {
      ok: false,
      why: 'the electron npm package is not installed (it is a devDependency: run npm install)',
    };
  }
  const pathFile = path.join(pkgDir, 'path.txt');
  const rel = existsSync(pathFile)
    ? readBoundedText(pathFile, 4 * KiB, "electron's path.txt").trim()
    : '';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const p = path.join(override, rel || 'electron');
    return existsSync(p)
      ? { ok: true, path: p }
      : { ok: false, why: `ELECTRON_OVERRIDE_DIST_PATH names ${p}, which does not exist` };
  }
  if (!rel) {
    return {
      ok: false,
      why:
        `the Electron binary has not been downloaded (no ${pathFile}): Electron 45 fetches it ` +
        'only when asked, not during npm install. Run `npx install-electron --no` (network ' +
        'needed), or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron',
    };
  }
  const full = path.join(pkgDir, 'dist', rel);
  return existsSync(full)
    ? { ok: true, path: full }
    : {
        ok: false,
        why: `the Electron binary ${full} is missing (re-run npm install with network access)`,
      };
}
