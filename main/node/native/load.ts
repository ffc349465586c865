import path from 'node:path';
import type { NativeAddon } from './addon-types';

let cached: NativeAddon | undefined;

/** Where node-gyp puts the addon; also unpacked from the asar in packaged builds. */
export function addonPath(): string {
  const fromDist = path.resolve(__dirname, '..', '..', '..', '..', 'native', 'build', 'Release');
  return path.join(
    fromDist.replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`),
    'iommuscope.node',
  );
}

/** Load the native addon once; throws an Error that says how to build it. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const file = addonPath();
  try {
    // A .node file can only be loaded through require (process.dlopen).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(file) as NativeAddon;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `iommuscope: the native addon could not be loaded from ${file} (${why}). ` +
        'Build it with `npm install` (node-gyp, python3, make and g++ are needed).',
      { cause: err },
    );
  }
  return cached;
}
