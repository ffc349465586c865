// Which CLI the tests that spawn `iommuscope` run: bin/iommuscope.js on the
// built addon, or, when the built addon does not speak the fault queue
// contract (main/node/native/addon-types.ts), the same CLI on the
// TypeScript fake of the queue (serve-fake-addon.ts), said once per process.
import path from 'node:path';
import { addonSkipReason } from '../unit/addon-available';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
let said = false;

export function cliEntry(): string {
  const reason = addonSkipReason();
  if (!reason) return path.join(repoRoot, 'bin', 'iommuscope.js');
  if (!said) {
    said = true;
    console.log(`# the CLI runs on the TypeScript fake fault queue: ${reason}`);
  }
  return path.join(repoRoot, 'dist', 'test', 'shared', 'serve-fake-addon.js');
}
