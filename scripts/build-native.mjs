// Builds the N-API addon with node-gyp against the headers of the Node that
// runs npm, so nothing is downloaded. N-API is ABI-stable: the same binary
// loads in Node 20 and in Electron's Node 22 without a rebuild.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function nodeHeadersDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  // /usr/bin/node -> /usr, ~/.nvm/versions/node/vX/bin/node -> ~/.nvm/versions/node/vX
  const prefix = path.dirname(path.dirname(process.execPath));
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return null;
}

const nodedir = nodeHeadersDir();
if (!nodedir) {
  console.error(
    'iommuscope: cannot find Node headers (include/node/node_api.h) next to ' +
      process.execPath +
      '. Install them (Debian: apt-get install libnode-dev) or set npm_config_nodedir.',
  );
  process.exit(1);
}
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(
  process.execPath,
  [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory=native', '--jobs=2'],
  { stdio: 'inherit' },
);
if (result.status !== 0) process.exit(result.status ?? 1);
// The activity view's capture helper (a plain executable, see scripts/build-capture.mjs).
const capture = spawnSync(
  process.execPath,
  [path.join(path.dirname(new URL(import.meta.url).pathname), 'build-capture.mjs')],
  {
    stdio: 'inherit',
  },
);
process.exit(capture.status ?? 1);
